import { QUEUE_DEFAULTS } from './defaults.js';

/** How a `TurnBatcher` sends what it gathered. */
export interface TurnBatcherOptions<T> {
  /** Most entries one batch call takes (10 for SQS and SNS). */
  maxEntries: number;
  /** Most bytes one batch call takes, counted with each entry's `size`. */
  maxBytes: number;
  /**
   * Longest an entry waits for a call to its destination that is out already, to go in the next call
   * with the others gathered meanwhile. `0` sends on the next turn whatever is out. @default QUEUE_DEFAULTS.batchWaitMs (20)
   */
  maxWaitMs?: number;
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

/** One destination's entries waiting to go, and its calls out. */
interface Destination<T> {
  pending: Array<Pending<T>>;
  callsOut: number;
  /** Set while a flush is due: on the next turn (`turn`), or when the wait for a call out runs out (`wait`). */
  due: { kind: 'turn'; handle: NodeJS.Immediate } | { kind: 'wait'; handle: NodeJS.Timeout } | undefined;
}

/**
 * Gathers the sends to one destination and sends them together in as few calls as the batch limits
 * allow. Sends made within one turn of the event loop go together; while a call to the destination is
 * out, sends wait for it to return (at most `maxWaitMs`) and then go together in the next call. A lone
 * send on a quiet destination goes out on the next turn, as it would alone; under load, calls fill up
 * instead of each carrying the one or two messages of its turn. Destinations are told apart by `key`
 * (a queue URL, a topic ARN).
 */
export class TurnBatcher<T> {
  readonly #options: TurnBatcherOptions<T>;
  readonly #maxWaitMs: number;
  readonly #destinations = new Map<string, Destination<T>>();

  constructor(options: TurnBatcherOptions<T>) {
    this.#options = options;
    this.#maxWaitMs = options.maxWaitMs ?? QUEUE_DEFAULTS.batchWaitMs;
  }

  /** Sends `entry` (of `size` bytes) with the others for `key`; settles with its own outcome. */
  add(key: string, entry: T, size: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let destination = this.#destinations.get(key);
      if (!destination) {
        destination = { pending: [], callsOut: 0, due: undefined };
        this.#destinations.set(key, destination);
      }
      destination.pending.push({ entry, size, resolve, reject });
      const waiting = destination.due?.kind === 'wait';
      // A full batch has nothing to wait for.
      if (destination.due !== undefined && !(waiting && this.#isFull(destination))) return;
      this.#cancelDue(destination);
      const flush = () => this.#flush(key);
      if (destination.callsOut > 0 && this.#maxWaitMs > 0 && !this.#isFull(destination)) {
        // Goes when a call out returns, or on its own once the wait runs out.
        const handle = setTimeout(flush, this.#maxWaitMs);
        handle.unref();
        destination.due = { kind: 'wait', handle };
      } else {
        destination.due = { kind: 'turn', handle: setImmediate(flush) };
      }
    });
  }

  #cancelDue(destination: Destination<T>): void {
    if (destination.due?.kind === 'wait') clearTimeout(destination.due.handle);
    if (destination.due?.kind === 'turn') clearImmediate(destination.due.handle);
    destination.due = undefined;
  }

  #flush(key: string): void {
    const destination = this.#destinations.get(key);
    if (!destination) return;
    this.#cancelDue(destination);
    const pending = destination.pending;
    if (pending.length === 0) return;
    destination.pending = [];
    for (const batch of this.#batches(pending)) {
      destination.callsOut++;
      void this.#send(key, batch).finally(() => this.#returned(key, destination));
    }
  }

  /** A call returned: what gathered while it was out goes now, and an idle destination is forgotten. */
  #returned(key: string, destination: Destination<T>): void {
    destination.callsOut--;
    if (destination.pending.length > 0) this.#flush(key);
    else if (destination.callsOut === 0 && destination.due === undefined) this.#destinations.delete(key);
  }

  #isFull(destination: Destination<T>): boolean {
    return destination.pending.length >= this.#options.maxEntries;
  }

  #batches(pending: Array<Pending<T>>): Array<Array<Pending<T>>> {
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
    return batches;
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
