import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ApiError, createApiClient, pathWithQuery } from '../src/api/client.js';

function jsonResponse(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

function client(replies, { tokens = ['t1', 't2'] } = {}) {
  const seen = [];
  let unauthorized = 0;
  const issued = [...tokens];
  const api = createApiClient({
    getToken: async (forceRefresh) => (forceRefresh ? issued.pop() : issued[0]),
    onUnauthorized: () => {
      unauthorized += 1;
    },
    fetchImpl: async (url, init) => {
      seen.push({ url, authorization: init.headers.Authorization });
      const next = replies.shift();
      if (next instanceof Error) throw next;
      return next;
    },
    upload: async (request) => {
      seen.push({ url: request.url, authorization: `Bearer ${request.token}`, key: request.idempotencyKey });
      return replies.shift();
    },
  });
  return { api, seen, unauthorized: () => unauthorized };
}

describe('pathWithQuery', () => {
  it('leaves out empty parameters', () => {
    assert.equal(pathWithQuery('/products/search', { q: 'espresso cup', category: null, offset: 0 }), '/products/search?q=espresso+cup&offset=0');
    assert.equal(pathWithQuery('/categories', {}), '/categories');
  });
});

describe('createApiClient', () => {
  it('sends the ID token and returns the expected reply', async () => {
    const { api, seen } = client([jsonResponse(200, [{ slug: 'mugs-and-cups' }])]);
    const reply = await api.get('/categories');
    assert.deepEqual(reply.body, [{ slug: 'mugs-and-cups' }]);
    assert.equal(seen[0].authorization, 'Bearer t1');
  });

  it('retries a 401 once with a refreshed token', async () => {
    const { api, seen, unauthorized } = client([
      jsonResponse(401, { error: 'invalid_token', detail: 'expired' }),
      jsonResponse(200, { ok: true }),
    ]);
    const reply = await api.get('/categories');
    assert.deepEqual(reply.body, { ok: true });
    assert.deepEqual(seen.map((s) => s.authorization), ['Bearer t1', 'Bearer t2']);
    assert.equal(unauthorized(), 0);
  });

  it('gives up on a second 401 and says the session has ended', async () => {
    const { api, unauthorized } = client([
      jsonResponse(401, { error: 'invalid_token', detail: 'expired' }),
      jsonResponse(401, { error: 'invalid_token', detail: 'expired' }),
    ]);
    await assert.rejects(api.get('/categories'), (error) => error instanceof ApiError && error.status === 401);
    assert.equal(unauthorized(), 1);
  });

  it('turns an error answer into an ApiError with its Retry-After', async () => {
    const { api } = client([jsonResponse(429, { error: 'rate_limited', detail: 'retry in 7 s' }, { 'Retry-After': '7' })]);
    await assert.rejects(api.get('/result/x'), { status: 429, code: 'rate_limited', retryAfter: 7 });
  });

  it('returns statuses the caller expects, such as a pending 404', async () => {
    const { api } = client([jsonResponse(404, { status: 'pending' }, { 'Retry-After': '1' })]);
    const reply = await api.get('/result/x', { expected: [200, 404] });
    assert.deepEqual([reply.status, reply.body.status, reply.retryAfter], [404, 'pending', '1']);
  });

  it('reports a request that got no answer as status 0', async () => {
    const { api } = client([new TypeError('Failed to fetch')]);
    await assert.rejects(api.get('/categories'), { status: 0, code: 'network_error' });
  });

  it('uploads with the token and the idempotency key, and refuses what is not a 202', async () => {
    const { api, seen } = client([
      { status: 202, body: { task_id: 'abc' }, retryAfter: null },
      { status: 415, body: { error: 'unsupported_media_type', detail: 'no' }, retryAfter: null },
    ]);
    const accepted = await api.predict({ name: 'a.jpg' }, { idempotencyKey: 'k-1' });
    assert.equal(accepted.task_id, 'abc');
    assert.deepEqual(seen[0], { url: '/predict', authorization: 'Bearer t1', key: 'k-1' });
    await assert.rejects(api.predict({ name: 'a.txt' }, { idempotencyKey: 'k-2' }), { status: 415 });
  });

  it('downloads past the HTTP cache with the caller\'s headers, and refuses unexpected statuses', async () => {
    const inits = [];
    const replies = [new Response(null, { status: 304 }), jsonResponse(404, { error: 'model_not_found', detail: 'no' })];
    const api = createApiClient({
      getToken: async () => 't1',
      onUnauthorized: () => {},
      fetchImpl: async (url, init) => {
        inits.push({ url, ...init });
        return replies.shift();
      },
    });
    const path = '/models/efficientnet-lite0/download';
    const response = await api.download(path, { headers: { 'If-None-Match': '"abc"' }, expected: [200, 304] });
    assert.equal(response.status, 304);
    assert.equal(inits[0].cache, 'no-store');
    assert.deepEqual(inits[0].headers, { 'If-None-Match': '"abc"', Authorization: 'Bearer t1' });
    await assert.rejects(api.download(path), { status: 404, code: 'model_not_found' });
  });
});
