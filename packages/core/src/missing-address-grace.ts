import { type Clock, systemClock } from './clock.js';
import { isDestinationGone } from './errors.js';

/** The first wait after a send found its destination missing; doubled after each try, up to the next. */
const FIRST_RETRY_MS = 100;
const LONGEST_RETRY_MS = 1_000;

export interface RetryWhileMissingOptions {
  /** How long to keep trying after the first failure; 0 fails at once. */
  graceMs: number;
  /** @default systemClock */
  clock?: Clock;
}

/**
 * Runs `send`, and runs it again while it fails because its destination does not exist, for up to
 * `graceMs`: the destination's owner makes it again after the queue service lost it. Any other failure,
 * and the last missing one, is thrown as it came.
 */
export async function retryWhileMissing<T>(
  send: () => Promise<T>,
  options: RetryWhileMissingOptions,
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.graceMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const left = deadline - clock.now();
      if (!isDestinationGone(error) || left <= 0) throw error;
      const wait = Math.min(left, LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
      await new Promise<void>((resolve) => clock.setTimeout(resolve, wait));
    }
  }
}

/**
 * The addresses a session's messages reached, so that only those get the grace of `retryWhileMissing`:
 * an address a sender named that never existed fails at once and ties nothing up. A session's client
 * uses few addresses (one per gateway instance that sent it a request); the oldest are dropped past
 * `limit`.
 */
export class ReachedAddresses<A> {
  readonly #reached = new Set<A>();
  readonly #limit: number;

  constructor(limit = 16) {
    this.#limit = limit;
  }

  has(address: A): boolean {
    return this.#reached.has(address);
  }

  add(address: A): void {
    this.#reached.delete(address);
    this.#reached.add(address);
    if (this.#reached.size > this.#limit) {
      const oldest = this.#reached.values().next().value as A;
      this.#reached.delete(oldest);
    }
  }
}
