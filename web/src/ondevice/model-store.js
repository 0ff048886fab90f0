// Where the model file is kept between visits: IndexedDB, which unlike the Cache API also
// works on plain http (a phone reaching a laptop over the LAN).
import { createStore, get, set } from 'idb-keyval';

/** @returns {import('./model-cache.js').ModelStore} */
export function indexedDbStore() {
  const store = createStore('snapmatch-models', 'files');
  return {
    get: (key) => get(key, store),
    set: (key, value) => set(key, value, store),
  };
}
