// onnxruntime-web's WASM backend, fetched only when the on-device mode is first used (it is
// most of the mode's weight). Its .wasm file comes from the npm package through the build,
// served by the gateway like the page's other files: nothing from a CDN.
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

let runtime = null;

function loadRuntime() {
  runtime ??= import('onnxruntime-web/wasm').then((ort) => {
    ort.env.wasm.wasmPaths = { wasm: wasmUrl };
    // Threads need a cross-origin isolated page (COOP/COEP headers), which the page is not:
    // one thread, said once here rather than left to a warning in the console.
    ort.env.wasm.numThreads = 1;
    return ort;
  });
  return runtime;
}

/**
 * An ONNX model ready to run: `run(input)` takes the NCHW float32 input and resolves with the
 * output's values.
 * @param {ArrayBuffer} bytes the ONNX file
 * @param {{input: {name: string, shape: (number | string)[]}, output: {name: string}}} record
 *   the model's published `preprocessing`
 */
export async function createModelRunner(bytes, record) {
  const ort = await loadRuntime();
  const session = await ort.InferenceSession.create(new Uint8Array(bytes), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const shape = record.input.shape.map((dim) => (typeof dim === 'number' ? dim : 1));
  return {
    /** @param {Float32Array} input @returns {Promise<Float32Array>} */
    async run(input) {
      const feeds = { [record.input.name]: new ort.Tensor('float32', input, shape) };
      const outputs = await session.run(feeds);
      return /** @type {Float32Array} */ (outputs[record.output.name].data);
    },
    release: () => session.release(),
  };
}
