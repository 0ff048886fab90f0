import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ApiError, errorFromReply, parseRetryAfter } from '../src/api/errors.js';

describe('parseRetryAfter', () => {
  it('reads delay-seconds, rounding up', () => {
    assert.equal(parseRetryAfter('5'), 5);
    assert.equal(parseRetryAfter('0.2'), 1);
    assert.equal(parseRetryAfter('0'), 0);
  });
  it('reads an HTTP date as the seconds until then', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    assert.equal(parseRetryAfter('Tue, 01 Dec 2026 10:00:12 GMT', now), 12);
    assert.equal(parseRetryAfter('Tue, 01 Dec 2026 09:00:00 GMT', now), 0);
  });
  it('gives null for a missing, negative or unreadable value', () => {
    for (const value of [null, undefined, '', '  ', '-3', 'soon']) {
      assert.equal(parseRetryAfter(value), null, String(value));
    }
  });
});

describe('errorFromReply', () => {
  it('keeps the gateway code, detail and Retry-After', () => {
    const error = errorFromReply(503, { error: 'queue_full', detail: 'the task queue is full' }, '5');
    assert.ok(error instanceof ApiError);
    assert.deepEqual([error.status, error.code, error.detail, error.retryAfter], [503, 'queue_full', 'the task queue is full', 5]);
    assert.equal(error.retryable, true);
  });
  it('names a status without a JSON body (a proxy answered)', () => {
    const error = errorFromReply(502, null, null);
    assert.equal(error.code, 'http_502');
    assert.equal(error.retryable, false);
  });
});
