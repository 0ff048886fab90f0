// The ways the page can classify a photo ("modes"). Each is a Classifier:
//
//   {
//     id: 'server',                       // the mode's value in the page's mode switch
//     uploads: true,                      // whether the photo goes to the server
//     describe(answer) -> string,         // "the server, efficientnet-lite0 (ac9acef47338)"
//     classify(file, hooks) -> Promise<Answer>,
//   }
//
//   hooks:  { onPhase(phase, detail), onProgress(fraction), onWait(secondsLeft), signal }
//   Answer: { mode, predictions: [{class_id, label, confidence}], model: {name, version} | null,
//             timings: [[name, ms], ...], products: [...], productsStatus: 'ok' | 'unavailable' }
//
// The server mode uploads the photo and long-polls its result, which carries its products.
// The on-device mode runs the model in the browser and asks GET /products/matches for the
// products of its top classes: the same ranking as a server result.
import { deviceClassifier } from './device.js';
import { serverClassifier } from './server.js';

/**
 * @param {ReturnType<import('../api/client.js').createApiClient>} api
 * @param {{result_wait_seconds: number, top_k: number}} config the gateway's /app/config.json
 * @returns {Map<string, {id: string, uploads: boolean, classify: Function, describe: Function}>}
 */
export function createClassifiers(api, config) {
  return new Map([
    ['server', serverClassifier(api, config)],
    ['device', deviceClassifier(api, config)],
  ]);
}
