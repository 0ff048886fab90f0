// Every failure the page can meet, in words a shopper understands. The gateway's `detail` is
// written for developers; it is shown only where it says something the shopper can act on.
import { ApiError, ResultFailedError } from './api/errors.js';
import { formatBytes } from './format.js';
import { OnDeviceError } from './ondevice/errors.js';

const SUPPORTED = 'a JPEG, PNG, WebP or HEIC photo';

const UPLOAD_PROBLEMS = {
  payload_too_large: ({ maxUploadBytes }) =>
    `This photo is too large to upload: the limit is ${formatBytes(maxUploadBytes)}. ` +
    'Pick a smaller one, or take the photo at a lower resolution.',
  image_too_large: () =>
    'This photo has too many pixels for snapmatch. Pick a smaller one, or take the photo at a lower resolution.',
  unsupported_media_type: () => `This file is not a photo snapmatch can read. Pick ${SUPPORTED}.`,
  empty_file: () => `This file is empty. Pick ${SUPPORTED}.`,
  corrupt_image: () => `This photo is damaged: its header cannot be read. Pick another one.`,
  form_too_large: () => 'The upload was refused as too large. Pick a single photo.',
};

const FAILURES = {
  undecodable_image: 'The photo could not be decoded: the file is damaged or incomplete. Pick another one.',
  image_too_large: 'The photo has too many pixels to classify. Pick a smaller one.',
  unknown_model: 'The server could not find the model to run. Try again in a while.',
  delivery_limit_exceeded:
    'The server kept failing on this photo and gave up on it. Try another photo, or this one later.',
};

const ON_DEVICE_PROBLEMS = {
  undecodable_photo:
    'This browser cannot read this photo. Pick a JPEG, PNG or WebP photo, or switch to “On the server”.',
  unsupported_preprocessing:
    'The server’s model needs a step this page cannot do on this device. Switch to “On the server”.',
  runtime_failed:
    'The model could not run in this browser. Reload the page and try again, or switch to “On the server”.',
};

/** Whether the page should go back to the sign-in form. */
export function needsSignIn(error) {
  return error instanceof ApiError && error.status === 401;
}

/**
 * @param {unknown} error
 * @param {{maxUploadBytes: number}} limits
 * @returns {string}
 */
export function describeError(error, limits) {
  if (error instanceof ResultFailedError) {
    return FAILURES[error.code] ?? `The photo could not be classified: ${error.message}`;
  }
  if (error instanceof OnDeviceError) return ON_DEVICE_PROBLEMS[error.code];
  if (!(error instanceof ApiError)) {
    return 'Something went wrong in this page. Reload it and try again.';
  }
  if (error.status === 0) {
    return 'snapmatch cannot be reached. Check your connection and try again.';
  }
  if (error.status === 401) return 'Your session has ended. Please sign in again.';
  const upload = UPLOAD_PROBLEMS[error.code];
  if (upload) return upload(limits);
  if (error.status === 413) return UPLOAD_PROBLEMS.payload_too_large(limits);
  if (error.status === 415) return UPLOAD_PROBLEMS.unsupported_media_type(limits);
  if (error.code === 'result_not_found') {
    return 'The result is no longer there (results are kept for five minutes). Upload the photo again.';
  }
  if (error.code === 'unknown_category') return 'That category no longer exists. Pick another one.';
  if (error.retryable) return 'snapmatch is busy right now. Try again in a minute.';
  if (error.status === 422) return `The request was refused: ${error.detail || error.code}.`;
  return `Something went wrong (${error.status} ${error.code}). Try again in a while.`;
}

/** The line shown while a 429 or 503 is being waited out. */
export function describeBusy(secondsLeft) {
  if (secondsLeft <= 0) return 'snapmatch is busy; retrying now…';
  return `snapmatch is busy; retrying in ${secondsLeft} s…`;
}

const SIGN_IN_PROBLEMS = {
  'auth/invalid-credential': 'Wrong email or password.',
  'auth/invalid-login-credentials': 'Wrong email or password.',
  'auth/wrong-password': 'Wrong email or password.',
  'auth/user-not-found': 'No account with this email: create one instead.',
  'auth/email-already-in-use': 'An account with this email exists already: sign in instead.',
  'auth/weak-password': 'Choose a password of at least 6 characters.',
  'auth/invalid-email': 'That email address does not look right.',
  'auth/missing-email': 'Enter your email address.',
  'auth/missing-password': 'Enter your password.',
  'auth/user-disabled': 'This account has been disabled.',
  'auth/too-many-requests': 'Too many attempts. Wait a moment and try again.',
  'auth/network-request-failed': 'The sign-in service cannot be reached. Check your connection and try again.',
  'auth/invalid-api-key': 'Sign-in is not configured on this server.',
  'auth/api-key-not-valid.-please-pass-a-valid-api-key.': 'Sign-in is not configured on this server.',
  'auth/operation-not-allowed': 'Email sign-in is not enabled for this shop.',
};

/** A Firebase Auth error (`{code: 'auth/...'}`) in words. */
export function describeSignInError(error) {
  const code = error && typeof error === 'object' ? error.code : undefined;
  return SIGN_IN_PROBLEMS[code] ?? `Sign-in failed${code ? ` (${code})` : ''}. Try again.`;
}
