// The gateway's HTTP API as the page uses it: a Bearer ID token on every call, one retry with
// a freshly minted token on a 401, and every failure turned into an ApiError.
import { ApiError, errorFromReply, networkError } from './errors.js';
import { uploadWithProgress } from './upload.js';

/**
 * @typedef {{status: number, body: any, retryAfter: string | null}} Reply
 * @typedef {{getToken: (forceRefresh: boolean) => Promise<string>, onUnauthorized: () => void,
 *            fetchImpl?: typeof fetch, upload?: typeof uploadWithProgress}} ClientOptions
 */

/** @param {Response} response @returns {Promise<Reply>} */
async function replyOf(response) {
  let body = null;
  if ((response.headers.get('Content-Type') || '').includes('json')) {
    body = await response.json().catch(() => null);
  }
  return { status: response.status, body, retryAfter: response.headers.get('Retry-After') };
}

/** `/products/search` + `{q: 'mug', offset: 0}` -> `/products/search?q=mug&offset=0`. */
export function pathWithQuery(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** @param {ClientOptions} options */
export function createApiClient({ getToken, onUnauthorized, fetchImpl, upload = uploadWithProgress }) {
  const doFetch = fetchImpl ?? ((...args) => fetch(...args));

  /** Sends with the current token; on a 401 once more with a refreshed one. */
  async function authorized(send) {
    let reply = await send(await getToken(false));
    if (reply.status === 401) {
      reply = await send(await getToken(true));
      if (reply.status === 401) onUnauthorized();
    }
    return reply;
  }

  function settle(reply, expected) {
    if (expected.includes(reply.status)) return reply;
    throw errorFromReply(reply.status, reply.body, reply.retryAfter);
  }

  /** A fetch with the token (and the 401 retry); a request without an answer is an ApiError. */
  function fetchAuthorized(url, { headers = {}, signal, cache } = {}) {
    return authorized(async (token) => {
      try {
        const init = { headers: { ...headers, Authorization: `Bearer ${token}` }, signal };
        return await doFetch(url, cache ? { ...init, cache } : init);
      } catch (error) {
        if (signal?.aborted) throw error;
        throw networkError();
      }
    });
  }

  /**
   * GET a JSON resource. Statuses in `expected` come back as a Reply; any other is thrown.
   * @param {string} path
   * @param {{params?: object, signal?: AbortSignal, expected?: number[]}} [options]
   * @returns {Promise<Reply>}
   */
  async function get(path, { params, signal, expected = [200] } = {}) {
    const response = await fetchAuthorized(pathWithQuery(path, params), { signal });
    return settle(await replyOf(response), expected);
  }

  /**
   * GET a file (the model) past the browser's HTTP cache, which the caller replaces with its
   * own: the Response itself when its status is in `expected`, any other thrown.
   * @param {string} path
   * @param {{headers?: Record<string, string>, signal?: AbortSignal, expected?: number[]}} [options]
   * @returns {Promise<Response>}
   */
  async function download(path, { headers, signal, expected = [200] } = {}) {
    const response = await fetchAuthorized(path, { headers, signal, cache: 'no-store' });
    if (expected.includes(response.status)) return response;
    const reply = await replyOf(response);
    throw errorFromReply(reply.status, reply.body, reply.retryAfter);
  }

  /**
   * POST /predict with upload progress; resolves with the 202 body `{task_id, result_url}`.
   * @param {File} file
   * @param {{idempotencyKey: string, onProgress?: (fraction: number) => void, signal?: AbortSignal}} options
   */
  async function predict(file, { idempotencyKey, onProgress, signal }) {
    const reply = await authorized((token) =>
      upload({ url: '/predict', file, token, idempotencyKey, onProgress, signal }),
    );
    return settle(reply, [202]).body;
  }

  return { get, download, predict };
}

export { ApiError };
