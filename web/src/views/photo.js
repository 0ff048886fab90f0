// Photo search: pick, drop or take a photo; preview; upload progress; a loader while the task
// waits; then the answer, or what went wrong.
import { ApiError } from '../api/errors.js';
import { isAbort } from '../api/sleep.js';
import { byId } from '../dom.js';
import { formatBytes, formatPercent } from '../format.js';
import { describeBusy, describeError, needsSignIn } from '../messages.js';
import { createAnswerView } from './answer.js';

// Phases with a progress bar, and phases with a spinner, as the classifiers report them.
const PROGRESS_TEXT = {
  uploading: 'Uploading',
  downloading: 'Downloading the model',
};
const LOADER_TEXT = {
  waiting: 'Looking at your photo…',
  loading: 'Getting the model ready…',
  running: 'Running the model on this device…',
  matching: 'Finding the products…',
};

/**
 * @param {{classifiers: Map<string, object>, status: ReturnType<import('./status.js').createStatusArea>,
 *          config: {max_upload_bytes: number}, onSignedOut: () => void}} deps
 */
export function createPhotoSearch({ classifiers, status, config, onSignedOut }) {
  const inputs = [byId('photo-input'), byId('camera-input')];
  const dropzone = byId('dropzone');
  const preview = byId('preview');
  const previewImage = /** @type {HTMLImageElement} */ (byId('preview-image'));
  const previewCaption = byId('preview-caption');
  const upload = byId('upload');
  const progress = /** @type {HTMLProgressElement} */ (byId('upload-progress'));
  const percent = byId('upload-percent');
  const progressText = byId('upload-what');
  const waiting = byId('waiting');
  const waitingText = byId('waiting-text');
  const answer = createAnswerView();
  const limits = { maxUploadBytes: config.max_upload_bytes };
  byId('max-upload').textContent = formatBytes(config.max_upload_bytes);

  let running = null; // AbortController of the photo in flight
  let lastFile = null; // asked again when the mode changes
  let previewUrl = null;
  // A photo the browser cannot show (HEIC outside Safari) keeps its caption, loses its preview.
  previewImage.addEventListener('error', () => {
    previewImage.hidden = true;
  });

  function selectedMode() {
    const checked = document.querySelector('input[name="mode"]:checked');
    return classifiers.get(checked?.value) ?? classifiers.get('server');
  }

  function showPreview(file) {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(file);
    previewImage.hidden = false;
    previewImage.src = previewUrl;
    previewCaption.textContent = `${file.name || 'photo'} · ${formatBytes(file.size)}`;
    preview.hidden = false;
  }

  function setPhase(phase) {
    upload.hidden = !(phase in PROGRESS_TEXT);
    waiting.hidden = !(phase in LOADER_TEXT);
    if (phase in PROGRESS_TEXT) {
      progressText.textContent = PROGRESS_TEXT[phase];
      onProgress(0);
    }
    if (phase in LOADER_TEXT) waitingText.textContent = LOADER_TEXT[phase];
  }

  function onProgress(fraction) {
    progress.value = Math.round(fraction * 100);
    percent.textContent = formatPercent(fraction);
  }

  function onWait(secondsLeft) {
    if (secondsLeft > 0) status.show(describeBusy(secondsLeft));
    else status.clear();
  }

  async function search(file) {
    running?.abort();
    const controller = new AbortController();
    running = controller;
    lastFile = file;
    status.clear();
    answer.clear();
    showPreview(file);
    onProgress(0);
    const classifier = selectedMode();
    if (classifier.uploads && file.size > config.max_upload_bytes) {
      // Refused here rather than after uploading megabytes the server would refuse too.
      status.show(describeError(new ApiError(413, 'payload_too_large', ''), limits));
      setPhase(null);
      return;
    }
    try {
      const result = await classifier.classify(file, {
        onPhase: setPhase,
        onProgress,
        onWait,
        signal: controller.signal,
      });
      answer.show(result, classifier, file.name || 'your photo');
    } catch (error) {
      if (isAbort(error)) return;
      status.show(describeError(error, limits));
      if (needsSignIn(error)) onSignedOut();
    } finally {
      if (running === controller) {
        running = null;
        setPhase(null);
      }
    }
  }

  for (const input of inputs) {
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      input.value = ''; // picking the same photo again fires `change` again
      if (file) search(file);
    });
  }
  // The same photo, asked again where the model now runs: the two answers side by side in time.
  for (const radio of document.querySelectorAll('input[name="mode"]')) {
    radio.addEventListener('change', () => {
      if (lastFile) search(lastFile);
    });
  }
  dropzone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropzone.classList.add('dragging');
  });
  dropzone.addEventListener('dragleave', () => dropzone.classList.remove('dragging'));
  dropzone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropzone.classList.remove('dragging');
    const file = event.dataTransfer?.files?.[0];
    if (file) search(file);
  });

  return {
    /** Stops the photo in flight and forgets the last answer (on sign-out). */
    reset() {
      running?.abort();
      running = null;
      lastFile = null;
      setPhase(null);
      answer.clear();
      preview.hidden = true;
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = null;
      previewImage.removeAttribute('src');
    },
  };
}
