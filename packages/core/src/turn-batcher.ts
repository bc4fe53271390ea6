/** How a `TurnBatcher` sends what it gathered. */
export interface TurnBatcherOptions<T> {
  /** Most entries one batch call takes (10 for SQS and SNS). */
  maxEntries: number;
  /** Most bytes one batch call takes, counted with each entry's `size`. */
  maxBytes: number;
  /** Sends a lone entry; rejects with the error its caller should see. */
  sendOne(key: string, entry: T): Promise<void>;
  /**
   * Sends several entries in one call. Resolves with one outcome per entry, in order: `undefined` when
   * it was sent, the error its caller should see when it was refused. Rejects when the whole call failed.
   */
  sendBatch(key: string, entries: readonly T[]): Promise<ReadonlyArray<Error | undefined>>;
}

interface Pending<T> {
  entry: T;
  size: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the sends to one destination made within one turn of the event loop and sends them together:
 * under load that is one batch call instead of ten, and a lone send goes out on the next turn as it
 * would alone. Destinations are told apart by `key` (a queue URL, a topic ARN).
 */
export class TurnBatcher<T> {
  readonly #options: TurnBatcherOptions<T>;
  readonly #pending = new Map<string, Array<Pending<T>>>();

  constructor(options: TurnBatcherOptions<T>) {
    this.#options = options;
  }

  /** Sends `entry` (of `size` bytes) with the others for `key` this turn; settles with its own outcome. */
  add(key: string, entry: T, size: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let pending = this.#pending.get(key);
      if (!pending) {
        pending = [];
        this.#pending.set(key, pending);
        setImmediate(() => void this.#flush(key));
      }
      pending.push({ entry, size, resolve, reject });
    });
  }

  async #flush(key: string): Promise<void> {
    const pending = this.#pending.get(key) ?? [];
    this.#pending.delete(key);
    const { maxEntries, maxBytes } = this.#options;
    const batches: Array<Array<Pending<T>>> = [];
    let batch: Array<Pending<T>> = [];
    let bytes = 0;
    for (const item of pending) {
      if (batch.length === maxEntries || (batch.length > 0 && bytes + item.size > maxBytes)) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(item);
      bytes += item.size;
    }
    if (batch.length > 0) batches.push(batch);
    await Promise.all(batches.map((items) => this.#send(key, items)));
  }

  async #send(key: string, items: Array<Pending<T>>): Promise<void> {
    try {
      if (items.length === 1) {
        const [only] = items as [Pending<T>];
        await this.#options.sendOne(key, only.entry);
        only.resolve();
        return;
      }
      const outcomes = await this.#options.sendBatch(
        key,
        items.map((item) => item.entry),
      );
      for (const [index, item] of items.entries()) {
        const refused = outcomes[index];
        if (refused === undefined) item.resolve();
        else item.reject(refused);
      }
    } catch (error) {
      for (const item of items) item.reject(error);
    }
  }
}
