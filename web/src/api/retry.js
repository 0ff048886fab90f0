// "Busy, come back in N s" (429, 503) handled the way the gateway asks: wait Retry-After, retry.
import { ApiError } from './errors.js';
import { sleep as realSleep } from './sleep.js';

/** When a 429 or 503 carries no Retry-After (a proxy's, say). */
export const DEFAULT_WAIT_SECONDS = 5;
export const MAX_ATTEMPTS = 6;

/**
 * Runs `attempt` until it stops failing with a retryable ApiError, waiting as told in between.
 * `onWait(secondsLeft, error)` is called once a second while waiting, and with 0 when the
 * wait is over. Other errors, and the last retryable one, are thrown.
 *
 * @template T
 * @param {() => Promise<T>} attempt
 * @param {{onWait?: (seconds: number, error: ApiError) => void, signal?: AbortSignal,
 *          sleep?: (ms: number, signal?: AbortSignal) => Promise<void>, maxAttempts?: number}} [options]
 * @returns {Promise<T>}
 */
export async function withRetries(attempt, options = {}) {
  const { onWait, signal, sleep = realSleep, maxAttempts = MAX_ATTEMPTS } = options;
  for (let attempts = 1; ; attempts += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ApiError) || !error.retryable || attempts >= maxAttempts) throw error;
      const seconds = Math.max(1, error.retryAfter ?? DEFAULT_WAIT_SECONDS);
      for (let left = seconds; left > 0; left -= 1) {
        onWait?.(left, error);
        await sleep(1000, signal);
      }
      onWait?.(0, error);
    }
  }
}
