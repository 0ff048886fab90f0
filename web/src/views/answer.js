// An Answer (see classifiers/index.js) on the page: who answered, the labels with their
// confidence, the timings, and the products.
import { byId, el } from '../dom.js';
import { formatDuration, formatPercent } from '../format.js';
import { productCard } from './products.js';

export function createAnswerView() {
  const section = byId('answer');
  const heading = byId('answer-heading');
  const answeredBy = byId('answered-by');
  const predictions = byId('predictions');
  const timings = byId('timings');
  const products = byId('products');
  const noProducts = byId('no-products');

  function clear() {
    section.hidden = true;
    answeredBy.replaceChildren();
    predictions.replaceChildren();
    timings.textContent = '';
    products.replaceChildren();
    noProducts.hidden = true;
  }

  /**
   * @param {object} answer
   * @param {{describe: (answer: object) => string}} classifier
   * @param {string} photoName
   */
  function show(answer, classifier, photoName) {
    heading.textContent = `What the model sees in ${photoName}`;
    answeredBy.replaceChildren(
      'Answered by ',
      el('span', { class: 'mode-badge', 'data-mode': answer.mode }, classifier.describe(answer)),
    );
    predictions.replaceChildren(
      ...answer.predictions.map((prediction, index) => {
        const id = `prediction-${index}`;
        return el(
          'li',
          { class: 'prediction', 'data-testid': 'prediction', 'data-class-id': prediction.class_id },
          el('span', { class: 'label', id }, prediction.label),
          el('span', { class: 'percent' }, formatPercent(prediction.confidence)),
          el('meter', {
            min: 0,
            max: 1,
            value: prediction.confidence,
            'aria-labelledby': id,
            title: formatPercent(prediction.confidence),
          }),
        );
      }),
    );
    timings.textContent = answer.timings
      .map(([name, ms]) => `${name} ${formatDuration(ms)}`)
      .join(' · ');
    products.replaceChildren(...answer.products.map((p) => productCard(p, 'product')));
    if (answer.productsStatus === 'unavailable') {
      noProducts.textContent = 'The shop cannot be reached right now, so no products are shown. Try the photo again in a while.';
      noProducts.hidden = false;
    } else if (answer.products.length === 0) {
      noProducts.textContent = 'The shop sells nothing that looks like this.';
      noProducts.hidden = false;
    }
    section.hidden = false;
  }

  return { show, clear };
}
