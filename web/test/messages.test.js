import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ApiError, ResultFailedError } from '../src/api/errors.js';
import { describeBusy, describeError, describeSignInError, needsSignIn } from '../src/messages.js';
import { OnDeviceError } from '../src/ondevice/errors.js';

const limits = { maxUploadBytes: 10 * 1024 * 1024 };
const api = (status, code, detail = '') => new ApiError(status, code, detail);

describe('describeError', () => {
  it('says what was wrong with a refused file, and what to pick instead', () => {
    assert.match(describeError(api(415, 'unsupported_media_type'), limits), /not a photo snapmatch can read\. Pick a JPEG, PNG, WebP or HEIC photo\./);
    assert.match(describeError(api(413, 'payload_too_large'), limits), /too large to upload: the limit is 10 MB/);
    assert.match(describeError(api(413, 'image_too_large'), limits), /too many pixels/);
    assert.match(describeError(api(422, 'empty_file'), limits), /This file is empty/);
    assert.match(describeError(api(422, 'corrupt_image'), limits), /damaged: its header cannot be read/);
  });
  it('falls back on the status for a refusal without a known code', () => {
    assert.match(describeError(api(413, 'http_413'), limits), /too large/);
    assert.match(describeError(api(415, 'http_415'), limits), /not a photo/);
  });
  it('explains a failed result by its code', () => {
    assert.match(describeError(new ResultFailedError('undecodable_image', 'x'), limits), /could not be decoded/);
    assert.match(describeError(new ResultFailedError('something_new', 'the reason'), limits), /could not be classified: the reason/);
  });
  it('sends a 401 back to sign-in', () => {
    const error = api(401, 'invalid_token');
    assert.equal(needsSignIn(error), true);
    assert.match(describeError(error, limits), /sign in again/);
    assert.equal(needsSignIn(api(403, 'forbidden')), false);
  });
  it('names a lost connection, an expired result and a server that stayed busy', () => {
    assert.match(describeError(api(0, 'network_error'), limits), /cannot be reached/);
    assert.match(describeError(api(404, 'result_not_found'), limits), /no longer there/);
    assert.match(describeError(api(503, 'queue_full'), limits), /busy/);
  });
  it('offers the server when the model cannot run in this browser', () => {
    const onDevice = (code) => describeError(new OnDeviceError(code, 'x'), limits);
    assert.match(onDevice('undecodable_photo'), /cannot read this photo.*“On the server”/);
    assert.match(onDevice('unsupported_preprocessing'), /Switch to “On the server”/);
    assert.match(onDevice('runtime_failed'), /could not run in this browser/);
  });
  it('quotes the server for other validation errors', () => {
    assert.match(describeError(api(422, 'validation_error', 'q: too long'), limits), /q: too long/);
  });
});

describe('describeBusy', () => {
  it('counts down, then says it retries', () => {
    assert.equal(describeBusy(12), 'snapmatch is busy; retrying in 12 s…');
    assert.equal(describeBusy(0), 'snapmatch is busy; retrying now…');
  });
});

describe('describeSignInError', () => {
  it('turns Firebase codes into sentences', () => {
    assert.equal(describeSignInError({ code: 'auth/invalid-credential' }), 'Wrong email or password.');
    assert.match(describeSignInError({ code: 'auth/email-already-in-use' }), /sign in instead/);
    assert.match(describeSignInError({ code: 'auth/weird' }), /\(auth\/weird\)/);
  });
});
