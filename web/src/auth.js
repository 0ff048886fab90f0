// Sign-in with the Firebase JS SDK: email and password, against the Auth Emulator in
// development and the real project in production (both from /app/config.json).
import { initializeApp } from 'firebase/app';
import {
  browserLocalPersistence,
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  indexedDBLocalPersistence,
  initializeAuth,
  onAuthStateChanged,
  signInWithEmailAndPassword,
  signOut,
} from 'firebase/auth';

/**
 * initializeAuth rather than getAuth: getAuth also wires the popup/redirect sign-in, which
 * loads scripts and iframes from Google's servers; email and password need none of that.
 * @param {{firebase: object, auth_emulator_url: string | null}} config
 */
export function createAuth(config) {
  const app = initializeApp(config.firebase);
  const auth = initializeAuth(app, {
    persistence: [indexedDBLocalPersistence, browserLocalPersistence],
  });
  if (config.auth_emulator_url) {
    // The page says it runs against the emulator itself; no SDK banner.
    connectAuthEmulator(auth, config.auth_emulator_url, { disableWarnings: true });
  }
  return {
    configured: Boolean(config.firebase.apiKey),
    /** @param {(user: import('firebase/auth').User | null) => void} callback */
    onChange(callback) {
      return onAuthStateChanged(auth, callback);
    },
    signIn(email, password) {
      return signInWithEmailAndPassword(auth, email, password);
    },
    signUp(email, password) {
      return createUserWithEmailAndPassword(auth, email, password);
    },
    signOut() {
      return signOut(auth);
    },
    /** The current ID token; the SDK refreshes it shortly before it expires (or when forced). */
    async idToken(forceRefresh = false) {
      const user = auth.currentUser;
      if (!user) throw new Error('not signed in');
      return user.getIdToken(forceRefresh);
    },
  };
}
