import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ApiError } from '../src/api/errors.js';
import { DEFAULT_WAIT_SECONDS, withRetries } from '../src/api/retry.js';

function scripted(...outcomes) {
  let calls = 0;
  const attempt = async () => {
    const outcome = outcomes[Math.min(calls, outcomes.length - 1)];
    calls += 1;
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  return { attempt, calls: () => calls };
}

const noSleep = async () => {};

describe('withRetries', () => {
  it('waits out Retry-After, counting down each second, then succeeds', async () => {
    const busy = new ApiError(429, 'rate_limited', 'retry in 3 s', { retryAfter: 3 });
    const { attempt, calls } = scripted(busy, 'accepted');
    const waited = [];
    const slept = [];
    const result = await withRetries(attempt, {
      onWait: (seconds) => waited.push(seconds),
      sleep: async (ms) => slept.push(ms),
    });
    assert.equal(result, 'accepted');
    assert.equal(calls(), 2);
    assert.deepEqual(waited, [3, 2, 1, 0]);
    assert.deepEqual(slept, [1000, 1000, 1000]);
  });

  it('waits the default when a 503 has no Retry-After', async () => {
    const { attempt } = scripted(new ApiError(503, 'broker_unavailable', ''), 'ok');
    const waited = [];
    await withRetries(attempt, { onWait: (s) => waited.push(s), sleep: noSleep });
    assert.equal(waited[0], DEFAULT_WAIT_SECONDS);
  });

  it('throws other errors at once', async () => {
    const refused = new ApiError(415, 'unsupported_media_type', '');
    const { attempt, calls } = scripted(refused, 'never');
    await assert.rejects(withRetries(attempt, { sleep: noSleep }), refused);
    assert.equal(calls(), 1);
  });

  it('gives up after the last attempt with the last error', async () => {
    const busy = new ApiError(503, 'queue_full', '', { retryAfter: 1 });
    const { attempt, calls } = scripted(busy);
    await assert.rejects(withRetries(attempt, { sleep: noSleep, maxAttempts: 3 }), busy);
    assert.equal(calls(), 3);
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    const { attempt } = scripted(new ApiError(429, 'rate_limited', '', { retryAfter: 30 }), 'ok');
    const run = withRetries(attempt, { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await assert.rejects(run, { name: 'AbortError' });
  });
});
