// Text search: a query, an optional category (GET /categories), pages of GET /products/search.
import { isAbort } from '../api/sleep.js';
import { withRetries } from '../api/retry.js';
import { byId, el } from '../dom.js';
import { describeBusy, describeError, needsSignIn } from '../messages.js';
import { productCard } from './products.js';

export const PAGE_SIZE = 6;

/**
 * @param {{api: ReturnType<import('../api/client.js').createApiClient>,
 *          status: ReturnType<import('./status.js').createStatusArea>,
 *          config: {max_upload_bytes: number}, onSignedOut: () => void}} deps
 */
export function createTextSearch({ api, status, config, onSignedOut }) {
  const form = /** @type {HTMLFormElement} */ (byId('search-form'));
  const input = /** @type {HTMLInputElement} */ (byId('search-input'));
  const category = /** @type {HTMLSelectElement} */ (byId('search-category'));
  const submit = /** @type {HTMLButtonElement} */ (byId('search-submit'));
  const summary = byId('search-summary');
  const results = byId('search-results');
  const pages = byId('search-pages');
  const previous = /** @type {HTMLButtonElement} */ (byId('search-previous'));
  const next = /** @type {HTMLButtonElement} */ (byId('search-next'));
  const pageLabel = byId('search-page');
  const limits = { maxUploadBytes: config.max_upload_bytes };

  let current = null; // {q, category, categoryName}
  let running = null;

  function fail(error) {
    if (isAbort(error)) return;
    status.show(describeError(error, limits));
    if (needsSignIn(error)) onSignedOut();
  }

  function onWait(secondsLeft) {
    if (secondsLeft > 0) status.show(describeBusy(secondsLeft));
    else status.clear();
  }

  async function loadCategories() {
    try {
      const { body } = await withRetries(() => api.get('/categories'), { onWait });
      category.replaceChildren(
        el('option', { value: '' }, 'All categories'),
        ...body.map((c) => el('option', { value: c.slug }, `${c.name} (${c.product_count})`)),
      );
    } catch (error) {
      fail(error);
    }
  }

  function render(page) {
    const { q, categoryName } = current;
    const where = categoryName ? ` in ${categoryName}` : '';
    if (page.items.length === 0) {
      summary.textContent = page.offset === 0
        ? `Nothing in the shop matches “${q}”${where}.`
        : `No more results for “${q}”${where}.`;
    } else {
      const first = page.offset + 1;
      const last = page.offset + page.items.length;
      summary.textContent = `Results ${first}–${last} for “${q}”${where}.`;
    }
    results.replaceChildren(...page.items.map((hit) => productCard(hit, 'search-result')));
    previous.disabled = page.offset === 0;
    next.disabled = page.next_offset === null;
    previous.dataset.offset = String(Math.max(0, page.offset - PAGE_SIZE));
    next.dataset.offset = String(page.next_offset ?? '');
    pageLabel.textContent = `Page ${Math.floor(page.offset / PAGE_SIZE) + 1}`;
    pages.hidden = page.offset === 0 && page.next_offset === null;
  }

  async function show(offset) {
    running?.abort();
    const controller = new AbortController();
    running = controller;
    status.clear();
    submit.disabled = true;
    try {
      const { body } = await withRetries(
        () =>
          api.get('/products/search', {
            params: { q: current.q, category: current.category, limit: PAGE_SIZE, offset },
            signal: controller.signal,
          }),
        { onWait, signal: controller.signal },
      );
      render(body);
    } catch (error) {
      fail(error);
    } finally {
      if (running === controller) {
        running = null;
        submit.disabled = false;
      }
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (!q) {
      status.show('Type what you are looking for, e.g. “espresso cup”.');
      input.focus();
      return;
    }
    const option = category.selectedOptions[0];
    current = {
      q,
      category: category.value || null,
      categoryName: category.value ? option.textContent.replace(/ \(\d+\)$/, '') : '',
    };
    show(0);
  });
  previous.addEventListener('click', () => show(Number(previous.dataset.offset)));
  next.addEventListener('click', () => show(Number(next.dataset.offset)));

  return {
    loadCategories,
    reset() {
      running?.abort();
      running = null;
      current = null;
      summary.textContent = '';
      results.replaceChildren();
      pages.hidden = true;
      input.value = '';
    },
  };
}
