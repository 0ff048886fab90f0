// The model file, kept on this device by its ETag (see model-store.js for where). Each use
// revalidates it with If-None-Match, so a model republished on the server is fetched again
// and a current copy costs a 304 without a body.

/**
 * @typedef {{etag: string, bytes: ArrayBuffer}} CachedModel
 * @typedef {{get: (key: string) => Promise<CachedModel | undefined>,
 *            set: (key: string, value: CachedModel) => Promise<void>}} ModelStore
 */

/** Reads a body, reporting the share received when the length is known. */
async function readBody(response, onProgress) {
  const total = Number(response.headers.get('Content-Length')) || 0;
  if (!response.body || !total || !onProgress) return response.arrayBuffer();
  const chunks = [];
  let received = 0;
  const reader = response.body.getReader();
  for (let part = await reader.read(); !part.done; part = await reader.read()) {
    chunks.push(part.value);
    received += part.value.length;
    onProgress(Math.min(1, received / total));
  }
  return new Blob(chunks).arrayBuffer();
}

/**
 * The bytes of the model at `path`, from this device when its copy is current.
 * @param {{download: Function}} api the API client (the download needs the ID token)
 * @param {string} path e.g. `/models/efficientnet-lite0/download`
 * @param {{store: ModelStore, onProgress?: (fraction: number) => void, signal?: AbortSignal}} options
 * @returns {Promise<{bytes: ArrayBuffer, etag: string, fromCache: boolean}>}
 */
export async function loadModelFile(api, path, { store, onProgress, signal }) {
  let cached;
  try {
    cached = await store.get(path);
  } catch {
    cached = undefined; // storage refused (private browsing, quota): download every time
  }
  const headers = cached ? { 'If-None-Match': cached.etag } : {};
  const response = await api.download(path, { headers, signal, expected: [200, 304] });
  if (response.status === 304 && cached) return { ...cached, fromCache: true };
  const bytes = await readBody(response, onProgress);
  const etag = response.headers.get('ETag');
  if (etag) {
    await store.set(path, { etag, bytes }).catch(() => {}); // a full disk only costs the next download
  }
  return { bytes, etag: etag ?? '', fromCache: false };
}
