// Server mode: POST /predict with upload progress, then long-poll GET /result/{id}?wait=.
import { ApiError, ResultFailedError } from '../api/errors.js';
import { withRetries } from '../api/retry.js';
import { sleep } from '../api/sleep.js';

// Below this, a pending answer came back without the server holding it (long-poll off):
// wait the Retry-After it sent instead of asking again at once.
const HELD_MS = 900;
const LONGEST_WAIT_SECONDS = 30;

/** A key per photo, kept across retries, so a retried upload never queues a second task. */
export function newIdempotencyKey(cryptoImpl = globalThis.crypto) {
  if (typeof cryptoImpl.randomUUID === 'function') return cryptoImpl.randomUUID();
  // randomUUID needs a secure context; a phone on plain http over the LAN has none.
  const bytes = cryptoImpl.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The result body of GET /result as an Answer. */
export function answerFromResult(result, roundTripMs) {
  const t = result.timings;
  const timings = t
    ? [
        ['waiting in the queue', t.queued_ms],
        ['preparing the photo', t.preprocess_ms],
        ['running the model', t.inference_ms],
        ['on the server in all', t.total_ms],
      ]
    : [];
  if (roundTripMs !== undefined) timings.push(['from upload to answer', roundTripMs]);
  return {
    mode: 'server',
    predictions: result.predictions,
    model: result.model,
    timings,
    products: result.products ?? [],
    productsStatus: result.products_status ?? 'ok',
  };
}

/**
 * Long-polls until the task is done or failed; retries 429/503 as told.
 * @returns {Promise<object>} the terminal result body
 */
export async function waitForResult(api, taskId, { waitSeconds, onWait, signal, pause = sleep }) {
  const path = `/result/${encodeURIComponent(taskId)}`;
  const wait = Math.max(0, Math.min(waitSeconds, LONGEST_WAIT_SECONDS));
  for (;;) {
    const asked = Date.now();
    const reply = await withRetries(
      () => api.get(path, { params: { wait }, signal, expected: [200, 404] }),
      { onWait, signal },
    );
    if (reply.status === 200) return reply.body;
    if (reply.body?.status !== 'pending') {
      throw new ApiError(404, 'result_not_found', reply.body?.detail ?? 'no such task');
    }
    if (Date.now() - asked < HELD_MS) {
      await pause(1000 * Math.max(1, Number(reply.retryAfter) || 1), signal);
    }
  }
}

export function serverClassifier(api, config) {
  return {
    id: 'server',
    uploads: true,
    describe(answer) {
      const model = answer.model ? `, ${answer.model.name} (version ${answer.model.version})` : '';
      return `the server${model}`;
    },
    async classify(file, { onPhase, onProgress, onWait, signal }) {
      const started = performance.now();
      const idempotencyKey = newIdempotencyKey();
      onPhase?.('uploading');
      const accepted = await withRetries(
        () => api.predict(file, { idempotencyKey, onProgress, signal }),
        { onWait, signal },
      );
      onPhase?.('waiting');
      const result = await waitForResult(api, accepted.task_id, {
        waitSeconds: config.result_wait_seconds,
        onWait,
        signal,
      });
      if (result.status === 'failed') {
        throw new ResultFailedError(result.error?.code, result.error?.message ?? 'unknown error');
      }
      return answerFromResult(result, performance.now() - started);
    },
  };
}
