// A product as a card: the same card for a photo's matches and for a text search's hits.
import { el } from '../dom.js';
import { formatPrice } from '../format.js';
import placeholderUrl from '../placeholder-product.svg';

/**
 * The catalog's image URLs point at the shop's image host; the page shows its own placeholder
 * and never loads a remote picture.
 * @param {{name: string, brand: string, price: string, currency: string, in_stock: boolean,
 *          category: {name: string}}} product
 * @param {string} testId
 */
export function productCard(product, testId) {
  const [stockClass, stockText] = product.in_stock
    ? ['in-stock', 'In stock']
    : ['out-of-stock', 'Out of stock'];
  return el(
    'li',
    { class: 'product', 'data-testid': testId },
    el('img', { src: placeholderUrl, alt: '', width: 64, height: 64 }),
    el('h4', {}, product.name),
    el('p', { class: 'brand-name' }, product.brand),
    el('p', { class: 'category' }, product.category.name),
    el(
      'p',
      {},
      el('span', { class: 'price' }, formatPrice(product.price, product.currency)),
      ' · ',
      el('span', { class: stockClass }, stockText),
    ),
  );
}
