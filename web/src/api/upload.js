// The photo upload. XMLHttpRequest rather than fetch: only XHR reports upload progress.
import { networkError } from './errors.js';
import { abortError } from './sleep.js';

/**
 * @param {{url: string, file: Blob, token: string, idempotencyKey: string,
 *          onProgress?: (fraction: number) => void, signal?: AbortSignal}} request
 * @returns {Promise<import('./client.js').Reply>}
 */
export function uploadWithProgress({ url, file, token, idempotencyKey, onProgress, signal }) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError());
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.responseType = 'json';
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Idempotency-Key', idempotencyKey);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable && event.total > 0) onProgress?.(event.loaded / event.total);
    });
    const onAbort = () => xhr.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (settle) => {
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    xhr.addEventListener('load', () =>
      done(() =>
        resolve({
          status: xhr.status,
          body: xhr.response,
          retryAfter: xhr.getResponseHeader('Retry-After'),
        }),
      ),
    );
    xhr.addEventListener('error', () => done(() => reject(networkError())));
    xhr.addEventListener('abort', () => done(() => reject(abortError())));
    const form = new FormData();
    form.append('image', file, file.name || 'photo');
    xhr.send(form);
  });
}
