-- The product catalog: categories, the ImageNet classes each category covers, and products.
-- Statements end with ';' at the end of a line (the runner splits on that).

CREATE TABLE categories (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    slug VARCHAR(64) NOT NULL,
    name VARCHAR(120) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_categories_slug (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Which ImageNet-1k classes a category covers, and how strongly (0 < weight <= 1). A result's
-- products are ranked by the sum over its predictions of confidence x weight.
CREATE TABLE category_classes (
    category_id INT UNSIGNED NOT NULL,
    class_id SMALLINT UNSIGNED NOT NULL,
    weight DECIMAL(4, 3) NOT NULL,
    PRIMARY KEY (category_id, class_id),
    KEY ix_category_classes_class (class_id, category_id, weight),
    CONSTRAINT fk_category_classes_category FOREIGN KEY (category_id)
        REFERENCES categories (id) ON DELETE CASCADE,
    CONSTRAINT ck_category_classes_class CHECK (class_id < 1000),
    CONSTRAINT ck_category_classes_weight CHECK (weight > 0 AND weight <= 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE products (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    sku VARCHAR(40) NOT NULL,
    category_id INT UNSIGNED NOT NULL,
    name VARCHAR(200) NOT NULL,
    brand VARCHAR(100) NOT NULL,
    description TEXT NOT NULL,
    price DECIMAL(10, 2) NOT NULL,
    currency CHAR(3) NOT NULL,
    stock INT UNSIGNED NOT NULL DEFAULT 0,
    image_url VARCHAR(500) NOT NULL,
    attributes JSON NOT NULL DEFAULT '{}',
    PRIMARY KEY (id),
    UNIQUE KEY uq_products_sku (sku),
    KEY ix_products_category (category_id, stock),
    KEY ix_products_name (name),
    FULLTEXT KEY ft_products_name (name),
    FULLTEXT KEY ft_products_text (name, brand, description),
    CONSTRAINT fk_products_category FOREIGN KEY (category_id) REFERENCES categories (id),
    CONSTRAINT ck_products_price CHECK (price >= 0),
    CONSTRAINT ck_products_currency CHECK (currency REGEXP '^[A-Z]{3}$'),
    CONSTRAINT ck_products_attributes CHECK (JSON_VALID(attributes))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
