import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ApiError } from '../src/api/errors.js';
import { OnDeviceError } from '../src/ondevice/errors.js';
import { loadModelFile } from '../src/ondevice/model-cache.js';
import { coefficients, resampleBicubic } from '../src/ondevice/resample.js';
import { softmax, topClasses } from '../src/ondevice/scores.js';
import { checkSupported, cropBox, resizedSize, toInputTensor } from '../src/ondevice/tensor.js';

// What GET /models publishes for EfficientNet-Lite0 (contracts.model_files).
const LITE0 = {
  exif_orientation: 'apply',
  alpha_background: [255, 255, 255],
  channel_order: 'RGB',
  resize: { short_side: 256, interpolation: 'bicubic', antialias: true },
  crop: { width: 224, height: 224, offset: 'floor((resized - crop) / 2)' },
  normalize: { mean: [127, 127, 127], std: [128, 128, 128] },
  layout: 'NCHW',
  input: { name: 'input', shape: ['batch', 3, 224, 224], dtype: 'float32' },
  output: { name: 'logits', shape: ['batch', 1000], dtype: 'float32' },
  output_activation: 'softmax',
};

function rgba(width, height, pixel) {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i += 1) data.set(pixel(i % width, Math.floor(i / width)), i * 4);
  return { data, width, height };
}

describe('resampleBicubic', () => {
  it('keeps a flat colour flat at any scale', () => {
    const image = rgba(300, 200, () => [200, 100, 7, 255]);
    const out = resampleBicubic(image, [10, 0, 290, 200], 56, 40);
    assert.equal(out.length, 56 * 40 * 3);
    for (let i = 0; i < out.length; i += 3) assert.deepEqual([...out.subarray(i, i + 3)], [200, 100, 7]);
  });

  it('copies the pixels when the box is the image at its own size', () => {
    const image = rgba(5, 4, (x, y) => [x * 50, y * 60, (x * y) % 256, 255]);
    const out = resampleBicubic(image, [0, 0, 5, 4], 5, 4);
    for (let i = 0; i < 20; i += 1) assert.deepEqual([...out.subarray(i * 3, i * 3 + 3)], [...image.data.subarray(i * 4, i * 4 + 3)]);
  });

  it('widens the filter when shrinking, so every source pixel counts (antialias)', () => {
    // 8 -> 1: a plain 4-tap bicubic would read the middle 4 pixels only.
    const [tap] = coefficients(8, 0, 8, 1);
    assert.equal(tap.min, 0);
    assert.equal(tap.weights.length, 8);
    assert.ok(tap.weights.every((w) => w > 0));
    const sum = tap.weights.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 2 ** 22) <= 8, `weights sum to one in 22-bit fixed point, got ${sum}`);
  });
});

describe('the published preprocessing', () => {
  it('scales the short side and floors the long one', () => {
    assert.deepEqual(resizedSize(600, 400, 256), [384, 256]);
    assert.deepEqual(resizedSize(451, 300, 256), [384, 256]);
    assert.deepEqual(resizedSize(300, 1000, 292), [292, 973]);
  });

  it('crops the centre of the resize, offsets floored', () => {
    // 600x400 -> 384x256, crop 224 at (80, 16): the source box scales back by 600/384.
    assert.deepEqual(cropBox(600, 400, LITE0), [125, 25, 475, 375]);
  });

  it('normalises per channel with the record\'s mean and std, in NCHW order', () => {
    const record = { ...LITE0, crop: { ...LITE0.crop, width: 2, height: 2 }, resize: { ...LITE0.resize, short_side: 2 } };
    record.normalize = { mean: [10, 20, 30], std: [2, 4, 5] };
    const tensor = toInputTensor(rgba(2, 2, () => [20, 40, 80, 255]), record);
    assert.deepEqual([...tensor], [5, 5, 5, 5, 5, 5, 5, 5, 10, 10, 10, 10]);
  });

  it('refuses a record asking for a step it does not know', () => {
    assert.doesNotThrow(() => checkSupported(LITE0));
    for (const record of [
      { ...LITE0, layout: 'NHWC' },
      { ...LITE0, channel_order: 'BGR' },
      { ...LITE0, resize: { ...LITE0.resize, interpolation: 'bilinear' } },
      { ...LITE0, resize: { ...LITE0.resize, antialias: false } },
    ]) {
      assert.throws(() => checkSupported(record), (error) => error instanceof OnDeviceError && error.code === 'unsupported_preprocessing');
    }
  });
});

describe('topClasses', () => {
  it('ranks the softmax of the logits, ties to the lower class id', () => {
    const top = topClasses([1, 3, 3, 0], 'softmax', 3, ['a', 'b', 'c', 'd']);
    assert.deepEqual(top.map((p) => [p.class_id, p.label]), [[1, 'b'], [2, 'c'], [0, 'a']]);
    assert.ok(Math.abs(softmax([1, 3, 3, 0]).reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.equal(top[0].confidence, top[1].confidence);
  });

  it('does not overflow on large logits', () => {
    const [first] = topClasses([1000, 999], 'softmax', 1, ['x', 'y']);
    assert.ok(Math.abs(first.confidence - 1 / (1 + Math.exp(-1))) < 1e-12);
  });
});

describe('loadModelFile', () => {
  const PATH = '/models/efficientnet-lite0/download';

  function fakeApi(responses) {
    const asked = [];
    return {
      asked,
      async download(path, options) {
        asked.push({ path, headers: options.headers, expected: options.expected });
        const next = responses.shift();
        if (next instanceof Error) throw next;
        return next;
      },
    };
  }
  const mapStore = (map = new Map()) => ({ map, get: async (k) => map.get(k), set: async (k, v) => void map.set(k, v) });

  it('downloads the first time and keeps the bytes by their ETag', async () => {
    const store = mapStore();
    const api = fakeApi([new Response(new Uint8Array([1, 2, 3]), { status: 200, headers: { ETag: '"abc"', 'Content-Length': '3' } })]);
    const progress = [];
    const file = await loadModelFile(api, PATH, { store, onProgress: (f) => progress.push(f) });
    assert.equal(file.fromCache, false);
    assert.deepEqual([...new Uint8Array(file.bytes)], [1, 2, 3]);
    assert.deepEqual(api.asked, [{ path: PATH, headers: {}, expected: [200, 304] }]);
    assert.equal(store.map.get(PATH).etag, '"abc"');
    assert.equal(progress.at(-1), 1);
  });

  it('revalidates its copy and uses it on a 304', async () => {
    const store = mapStore(new Map([[PATH, { etag: '"abc"', bytes: new Uint8Array([9]).buffer }]]));
    const api = fakeApi([new Response(null, { status: 304, headers: { ETag: '"abc"' } })]);
    const file = await loadModelFile(api, PATH, { store });
    assert.equal(file.fromCache, true);
    assert.deepEqual([...new Uint8Array(file.bytes)], [9]);
    assert.deepEqual(api.asked[0].headers, { 'If-None-Match': '"abc"' });
  });

  it('replaces its copy when the server has another version', async () => {
    const store = mapStore(new Map([[PATH, { etag: '"old"', bytes: new Uint8Array([9]).buffer }]]));
    const api = fakeApi([new Response(new Uint8Array([7, 7]), { status: 200, headers: { ETag: '"new"' } })]);
    const file = await loadModelFile(api, PATH, { store });
    assert.equal(file.fromCache, false);
    assert.equal(store.map.get(PATH).etag, '"new"');
    assert.deepEqual([...new Uint8Array(store.map.get(PATH).bytes)], [7, 7]);
  });

  it('still downloads when the browser refuses storage', async () => {
    const refusing = { get: async () => { throw new Error('denied'); }, set: async () => { throw new Error('quota'); } };
    const api = fakeApi([new Response(new Uint8Array([5]), { status: 200, headers: { ETag: '"e"' } })]);
    const file = await loadModelFile(api, PATH, { store: refusing });
    assert.deepEqual([...new Uint8Array(file.bytes)], [5]);
  });

  it('lets the API client\'s errors through', async () => {
    const api = fakeApi([new ApiError(401, 'invalid_token', 'expired')]);
    await assert.rejects(loadModelFile(api, PATH, { store: mapStore() }), (error) => error.status === 401);
  });
});
