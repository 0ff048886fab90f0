// The one message area (data-testid="error"): what went wrong, or that the server is busy.
import { byId } from '../dom.js';

export function createStatusArea() {
  const area = byId('error');
  const text = byId('error-text');
  byId('error-dismiss').addEventListener('click', () => clear());

  function show(message) {
    text.textContent = message;
    area.hidden = false;
  }
  function clear() {
    text.textContent = '';
    area.hidden = true;
  }
  return { show, clear };
}
