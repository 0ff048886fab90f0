// What can go wrong talking to the gateway, as values the views can explain.

/** A gateway answer other than the one asked for, or no answer at all (status 0). */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status; 0 when the request never got an answer.
   * @param {string} code The body's stable `error` code.
   * @param {string} detail The body's human `detail`.
   * @param {{retryAfter?: number | null}} [options] Seconds from the Retry-After header.
   */
  constructor(status, code, detail, { retryAfter = null } = {}) {
    super(detail || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }

  /** 429 and 503 mean "come back later", and say when. */
  get retryable() {
    return this.status === 429 || this.status === 503;
  }
}

/** A task that ended `failed`: the photo reached a worker, which could not classify it. */
export class ResultFailedError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'ResultFailedError';
    this.code = code;
  }
}

/**
 * Retry-After as whole seconds: delay-seconds or an HTTP date; null when absent or unreadable.
 * @param {string | null | undefined} value
 * @param {number} [now] milliseconds since the epoch
 */
export function parseRetryAfter(value, now = Date.now()) {
  if (value == null || String(value).trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds) : null;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * The error a gateway answer stands for; the body is `{error, detail}` for every 4xx and 5xx,
 * but a proxy in front of the gateway may answer with anything.
 * @param {number} status
 * @param {unknown} body the parsed JSON body, or null
 * @param {string | null} retryAfterHeader
 */
export function errorFromReply(status, body, retryAfterHeader) {
  const fields = body && typeof body === 'object' ? body : {};
  const code = typeof fields.error === 'string' ? fields.error : `http_${status}`;
  const detail = typeof fields.detail === 'string' ? fields.detail : '';
  return new ApiError(status, code, detail, { retryAfter: parseRetryAfter(retryAfterHeader) });
}

/** The error a request that got no answer becomes. */
export function networkError() {
  return new ApiError(0, 'network_error', 'no answer from the server');
}
