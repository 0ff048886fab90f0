-- What each user's tasks were and how they ended, kept for SNAPMATCH_HISTORY_RETENTION_DAYS
-- after the 5-minute result has expired from Redis. No image bytes: ids, times, model, top label.
CREATE TABLE task_history (
    task_id CHAR(36) NOT NULL PRIMARY KEY,
    owner_uid VARCHAR(128) NOT NULL,
    status VARCHAR(16) NOT NULL,
    submitted_at DATETIME(6) NOT NULL,
    completed_at DATETIME(6) NULL,
    model_name VARCHAR(64) NULL,
    model_version VARCHAR(16) NULL,
    top_class_id INT NULL,
    top_label VARCHAR(128) NULL,
    top_confidence DOUBLE NULL,
    error_code VARCHAR(64) NULL,
    KEY owner_newest_first (owner_uid, submitted_at, task_id),
    KEY by_age (submitted_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
