// The page: read the gateway's settings, sign in, then search by photo or by text.
import './styles.css';

import { ApiError } from './api/errors.js';
import { createApiClient } from './api/client.js';
import { createAuth } from './auth.js';
import { createClassifiers } from './classifiers/index.js';
import { byId } from './dom.js';
import { createPhotoSearch } from './views/photo.js';
import { createTextSearch } from './views/search.js';
import { createSignIn } from './views/signin.js';
import { createStatusArea } from './views/status.js';

async function loadConfig() {
  const response = await fetch('/app/config.json');
  if (!response.ok) throw new Error(`/app/config.json answered ${response.status}`);
  return response.json();
}

function showEnvironment(config) {
  if (!config.auth_emulator_url) return;
  const note = byId('environment-note');
  note.textContent = 'Development: accounts live in the local Firebase Auth Emulator.';
  note.hidden = false;
}

async function start() {
  const status = createStatusArea();
  let config;
  try {
    config = await loadConfig();
  } catch {
    byId('booting').hidden = true;
    status.show('snapmatch cannot be reached. Check your connection and reload the page.');
    return;
  }
  showEnvironment(config);
  const auth = createAuth(config);

  const signedOut = () => auth.signOut();
  const api = createApiClient({
    async getToken(forceRefresh) {
      try {
        return await auth.idToken(forceRefresh);
      } catch {
        throw new ApiError(401, 'signed_out', 'not signed in');
      }
    },
    onUnauthorized: signedOut,
  });
  const deps = { api, status, config, onSignedOut: signedOut };
  const photo = createPhotoSearch({ ...deps, classifiers: createClassifiers(api, config) });
  const text = createTextSearch(deps);
  createSignIn({ auth, status });
  byId('sign-out').addEventListener('click', () => {
    status.clear();
    signedOut();
  });

  let signedInUid = null;
  auth.onChange((user) => {
    const newlySignedIn = Boolean(user) && user.uid !== signedInUid;
    signedInUid = user?.uid ?? null;
    byId('booting').hidden = true;
    byId('sign-in').hidden = Boolean(user);
    byId('shop').hidden = !user;
    byId('account').hidden = !user;
    byId('account-email').textContent = user?.email ?? '';
    if (newlySignedIn) {
      // Only on a new sign-in: the same user announced again must not move the focus away
      // from what a keyboard user is on.
      text.loadCategories();
      byId('photo-heading').focus();
    } else if (!user) {
      photo.reset();
      text.reset();
    }
  });
}

start();
