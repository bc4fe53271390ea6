/**
 * Everything a test double saw, in order, and bounded waits for the first item matching a predicate —
 * already seen or still to come — so a test waits on an event, never on a sleep.
 */
export class Recorded<T> {
  readonly items: T[] = [];
  readonly #waiters = new Set<{ match: (item: T) => boolean; resolve: (item: T) => void }>();

  record(item: T): void {
    this.items.push(item);
    for (const waiter of this.#waiters) {
      if (waiter.match(item)) {
        this.#waiters.delete(waiter);
        waiter.resolve(item);
      }
    }
  }

  /**
   * The first item from index `after` on that matches; rejects after `timeoutMs` with
   * `no ${what} within ${timeoutMs} ms`.
   */
  waitFor(
    match: (item: T) => boolean,
    options: { timeoutMs: number; what: string; after?: number },
  ): Promise<T> {
    const seen = this.items.slice(options.after ?? 0).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (item: T) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no ${options.what} within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      this.#waiters.add(waiter);
    });
  }
}
