import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ApiError, ResultFailedError } from '../src/api/errors.js';
import { answerFromResult, newIdempotencyKey, serverClassifier, waitForResult } from '../src/classifiers/server.js';

const done = {
  task_id: 't',
  status: 'done',
  predictions: [{ class_id: 967, label: 'espresso', confidence: 0.9 }],
  model: { name: 'efficientnet-lite0', version: 'ac9acef47338' },
  timings: { queued_ms: 3, preprocess_ms: 4, inference_ms: 5, total_ms: 13 },
  products: [{ id: 1 }],
  products_status: 'ok',
};

/** A fake api whose get() answers from a script, recording the paths asked. */
function fakeApi(gets, predicts = []) {
  const asked = [];
  return {
    asked,
    async get(path, options) {
      asked.push({ path, wait: options.params.wait });
      const next = gets.shift();
      if (next instanceof Error) throw next;
      return next;
    },
    async predict(file, options) {
      asked.push({ predict: file.name, key: options.idempotencyKey });
      const next = predicts.shift();
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

describe('waitForResult', () => {
  it('long-polls until the result is there', async () => {
    const api = fakeApi([
      { status: 404, body: { status: 'pending' }, retryAfter: '1' },
      { status: 200, body: done, retryAfter: null },
    ]);
    const paused = [];
    const result = await waitForResult(api, 't', { waitSeconds: 30, pause: async (ms) => paused.push(ms) });
    assert.equal(result, done);
    assert.deepEqual(api.asked, [{ path: '/result/t', wait: 30 }, { path: '/result/t', wait: 30 }]);
    assert.deepEqual(paused, [1000], 'an answer that came back at once is followed by Retry-After');
  });

  it('never asks for a longer wait than 30 s', async () => {
    const api = fakeApi([{ status: 200, body: done, retryAfter: null }]);
    await waitForResult(api, 't', { waitSeconds: 300 });
    assert.equal(api.asked[0].wait, 30);
  });

  it('reports a result that is gone', async () => {
    const api = fakeApi([{ status: 404, body: { status: 'not_found', detail: 'expired' }, retryAfter: null }]);
    await assert.rejects(waitForResult(api, 't', { waitSeconds: 30 }), { code: 'result_not_found' });
  });
});

describe('serverClassifier', () => {
  it('uploads, waits and answers with the labels, the model and the products', async () => {
    const api = fakeApi([{ status: 200, body: done, retryAfter: null }], [{ task_id: 't' }]);
    const phases = [];
    const answer = await serverClassifier(api, { result_wait_seconds: 30 }).classify({ name: 'a.jpg' }, { onPhase: (p) => phases.push(p) });
    assert.deepEqual(phases, ['uploading', 'waiting']);
    assert.equal(answer.mode, 'server');
    assert.deepEqual(answer.predictions, done.predictions);
    assert.deepEqual(answer.products, [{ id: 1 }]);
    assert.deepEqual(answer.timings.slice(0, 4).map(([, ms]) => ms), [3, 4, 5, 13]);
    assert.equal(answer.timings.length, 5, 'plus the round trip seen by the page');
  });

  it('keeps one idempotency key across a retried upload', async () => {
    const busy = new ApiError(503, 'queue_full', '', { retryAfter: 1 });
    const api = fakeApi([{ status: 200, body: done, retryAfter: null }], [busy, { task_id: 't' }]);
    await serverClassifier(api, { result_wait_seconds: 30 }).classify({ name: 'a.jpg' }, {});
    const keys = api.asked.filter((a) => a.predict).map((a) => a.key);
    assert.equal(keys.length, 2);
    assert.equal(keys[0], keys[1]);
  });

  it('throws the reason of a failed task', async () => {
    const failed = { ...done, status: 'failed', predictions: [], error: { code: 'undecodable_image', message: 'truncated' } };
    const api = fakeApi([{ status: 200, body: failed, retryAfter: null }], [{ task_id: 't' }]);
    await assert.rejects(
      serverClassifier(api, { result_wait_seconds: 30 }).classify({ name: 'a.jpg' }, {}),
      (error) => error instanceof ResultFailedError && error.code === 'undecodable_image',
    );
  });

  it('describes who answered', () => {
    const answer = answerFromResult(done);
    assert.equal(serverClassifier(null, {}).describe(answer), 'the server, efficientnet-lite0 (version ac9acef47338)');
  });
});

describe('newIdempotencyKey', () => {
  it('works without randomUUID (no secure context)', () => {
    const key = newIdempotencyKey({ getRandomValues: (bytes) => bytes.fill(171) });
    assert.equal(key, 'ab'.repeat(16));
    assert.match(newIdempotencyKey(), /^[0-9a-f-]{32,36}$/);
  });
});
