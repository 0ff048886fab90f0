// A wait that an AbortSignal cuts short (the user picked another photo, or signed out).

export function abortError() {
  return new DOMException('The operation was aborted.', 'AbortError');
}

/**
 * @param {number} ms
 * @param {AbortSignal} [signal]
 */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError());
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(abortError());
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function isAbort(error) {
  return error instanceof DOMException && error.name === 'AbortError';
}
