// The sign-in form: sign in, or create an account, with email and password.
import { byId } from '../dom.js';
import { describeSignInError } from '../messages.js';

/**
 * @param {{auth: ReturnType<import('../auth.js').createAuth>,
 *          status: ReturnType<import('./status.js').createStatusArea>}} deps
 */
export function createSignIn({ auth, status }) {
  const form = /** @type {HTMLFormElement} */ (byId('sign-in-form'));
  const email = /** @type {HTMLInputElement} */ (byId('email'));
  const password = /** @type {HTMLInputElement} */ (byId('password'));
  const buttons = [byId('sign-in-button'), byId('sign-up-button')];

  async function attempt(action) {
    if (!auth.configured) {
      status.show('Sign-in is not configured on this server (SNAPMATCH_WEB_FIREBASE_API_KEY).');
      return;
    }
    if (!form.reportValidity()) return;
    status.clear();
    buttons.forEach((b) => (b.disabled = true));
    try {
      await action(email.value.trim(), password.value);
      password.value = ''; // the auth state listener shows the shop
    } catch (error) {
      status.show(describeSignInError(error));
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    attempt(auth.signIn);
  });
  byId('sign-up-button').addEventListener('click', () => attempt(auth.signUp));
}
