export interface BackoffOptions {
  /** First delay ceiling. @default 100 */
  baseMs?: number;
  /** Largest delay. @default 20000 */
  maxMs?: number;
  /** Source of randomness in [0, 1); replace it in tests. @default Math.random */
  random?: () => number;
}

/**
 * "Full jitter" exponential backoff: a delay drawn uniformly from [0, min(max, base·2^attempt)], so many
 * pollers that failed together do not retry together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 100, maxMs = 20_000, random = Math.random } = options;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** Counts consecutive failures and hands out the next delay; `reset()` after a success. */
export class Backoff {
  #attempt = 0;
  readonly #options: BackoffOptions;

  constructor(options: BackoffOptions = {}) {
    this.#options = options;
  }

  get attempt(): number {
    return this.#attempt;
  }

  next(): number {
    return backoffDelay(this.#attempt++, this.#options);
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Waits `ms`, or less when `signal` aborts (it resolves then, it does not throw). */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
