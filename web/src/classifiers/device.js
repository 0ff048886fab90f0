// On-device mode: the server's default model runs in this browser (onnxruntime-web, WASM) on
// the photo prepared as the model's published record says; only the top classes and their
// confidences go to the server, for the products (GET /products/matches, ranked like the
// products of a server result). The photo never leaves the device.
import { ApiError } from '../api/errors.js';
import { withRetries } from '../api/retry.js';
import { decodePhoto } from '../ondevice/decode.js';
import { OnDeviceError } from '../ondevice/errors.js';
import { loadModelFile } from '../ondevice/model-cache.js';
import { indexedDbStore } from '../ondevice/model-store.js';
import { createModelRunner } from '../ondevice/runtime.js';
import { topClasses } from '../ondevice/scores.js';
import { toInputTensor } from '../ondevice/tensor.js';

const MODEL_SOURCES = {
  network: 'model downloaded',
  cache: "model from this device's cache",
  memory: 'model already loaded',
};

/** Milliseconds `work` took, also recorded as a performance measure `snapmatch:<name>`. */
async function timed(name, work) {
  const start = performance.now();
  const value = await work();
  const end = performance.now();
  performance.measure(`snapmatch:${name}`, { start, end });
  return [value, end - start];
}

/** onnxruntime-web fails with plain Errors; the page words them as "cannot run here". */
async function asRuntimeError(work) {
  try {
    return await work();
  } catch (error) {
    if (error instanceof OnDeviceError || error?.name === 'AbortError') throw error;
    throw new OnDeviceError('runtime_failed', `onnxruntime-web: ${error?.message ?? error}`, { cause: error });
  }
}

/**
 * @param {ReturnType<import('../api/client.js').createApiClient>} api
 * @param {{top_k: number}} config the gateway's /app/config.json
 * @param {{store?: import('../ondevice/model-cache.js').ModelStore}} [options]
 */
export function deviceClassifier(api, config, { store = indexedDbStore() } = {}) {
  /** The model of this page: {version, model: Promise<{record, labels, runner, fromCache,
   * loadMs, used}>}. One load serves every photo asked meanwhile; none is tied to one photo's
   * AbortSignal, since the next photo needs the same model. */
  let current = null;
  /** The hooks of the latest photo, which the load in progress reports to. */
  let listener = {};

  async function load(record) {
    const [model, loadMs] = await timed('model-load', async () => {
      const onWait = (...args) => listener.onWait?.(...args);
      const { body: labels } = await withRetries(() => api.get(record.labels_url), { onWait });
      listener.onPhase?.('downloading');
      const path = `/models/${encodeURIComponent(record.name)}/download`;
      const onProgress = (fraction) => listener.onProgress?.(fraction);
      const [file] = await timed('model-file', () => loadModelFile(api, path, { store, onProgress }));
      listener.onPhase?.('loading');
      const [runner] = await timed('model-session', () =>
        asRuntimeError(() => createModelRunner(file.bytes, record.preprocessing)),
      );
      return { record, labels: labels.labels, runner, fromCache: file.fromCache };
    });
    return { ...model, loadMs, used: false };
  }

  /** The server's default model ready to run: downloaded or from this device's copy on first
   * use, and again only when the server publishes another version. */
  async function prepare(hooks) {
    const { onWait, signal } = hooks;
    listener = hooks;
    const { body: served } = await withRetries(() => api.get('/models', { signal }), { onWait, signal });
    const record = served.models.find((model) => model.name === served.default);
    if (!record) throw new ApiError(503, 'model_unavailable', 'the default model is not served');
    if (current?.version !== record.version) {
      const previous = current;
      const loading = { version: record.version, model: load(record) };
      current = loading;
      // A failed load is tried again by the next photo.
      loading.model.catch(() => {
        if (current === loading) current = null;
      });
      previous?.model.then((model) => model.runner.release(), () => {});
    }
    const model = await current.model;
    signal?.throwIfAborted();
    return model;
  }

  async function productsFor(predictions, { onWait, signal }) {
    const params = {
      class_ids: predictions.map((p) => p.class_id).join(','),
      confidences: predictions.map((p) => p.confidence).join(','),
    };
    try {
      const { body } = await withRetries(() => api.get('/products/matches', { params, signal }), { onWait, signal });
      return { products: body.products, productsStatus: 'ok' };
    } catch (error) {
      // As in a server result: the labels stand without the shop behind them.
      if (error instanceof ApiError && error.status === 503) return { products: [], productsStatus: 'unavailable' };
      throw error;
    }
  }

  return {
    id: 'device',
    uploads: false,
    describe(answer) {
      const source = MODEL_SOURCES[answer.modelSource];
      return `this device (WebAssembly), ${answer.model.name} (version ${answer.model.version}, ${source})`;
    },
    async classify(file, hooks) {
      const started = performance.now();
      hooks.onPhase?.('loading');
      const model = await prepare(hooks);
      const firstUse = !model.used;
      model.used = true;
      hooks.onPhase?.('running');
      const spec = model.record.preprocessing;
      const [input, prepareMs] = await timed('preprocess', async () => toInputTensor(await decodePhoto(file, spec), spec));
      const [output, inferenceMs] = await timed('inference', () => asRuntimeError(() => model.runner.run(input)));
      hooks.signal?.throwIfAborted();
      const predictions = topClasses(output, spec.output_activation, config.top_k, model.labels);
      hooks.onPhase?.('matching');
      const [matches, matchMs] = await timed('matches', () => productsFor(predictions, hooks));
      const timings = [
        ['preparing the photo', prepareMs],
        ['running the model', inferenceMs],
        ['finding the products', matchMs],
        ['from photo to answer', performance.now() - started],
      ];
      if (firstUse) {
        timings.unshift([model.fromCache ? 'loading the model from this device' : 'downloading the model', model.loadMs]);
      }
      return {
        mode: 'device',
        predictions,
        model: { name: model.record.name, version: model.record.version },
        modelSource: !firstUse ? 'memory' : model.fromCache ? 'cache' : 'network',
        timings,
        ...matches,
      };
    },
  };
}
