import { Backoff, type BackoffOptions, delay } from './backoff.js';
import { QUEUE_DEFAULTS } from './defaults.js';
import type { MessageAttributes } from './envelope.js';
import { describeError } from './errors.js';
import { KeyedSerialQueue } from './keyed-serial-queue.js';
import { type Logger, silentLogger } from './logger.js';
import type { QueuePollingOptions } from './queue-polling.js';

/** One message as a queue hands it out. */
export interface QueueMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** Its attributes, name → value, as the queue's adapter reads them. */
  readonly attributes: Readonly<MessageAttributes>;
  /** How many times the queue has handed this message out, when it says. */
  readonly receiveCount?: number;
  /**
   * Who sent the message, as the queue service vouches for it (SQS's `SenderId`: the sender's IAM
   * identity), when it says. Not something a sender can choose, unlike any message attribute.
   */
  readonly senderId?: string;
}

/**
 * The few operations a consumer needs of a queue. An SQS adapter is a dozen lines; any queue with
 * receive / delete / visibility works the same way.
 */
export interface QueueSource {
  /** Names the queue in log lines. */
  readonly description: string;
  receive(request: {
    maxMessages: number;
    waitTimeSeconds: number;
    visibilityTimeoutSeconds: number;
    signal: AbortSignal;
  }): Promise<QueueMessage[]>;
  delete(message: QueueMessage): Promise<void>;
  changeVisibility(message: QueueMessage, seconds: number): Promise<void>;
  /**
   * Deletes up to `maxDeleteBatch` messages in one call. When present, the consumer gathers deletions
   * for up to `deleteLingerMs` (or until a batch is full) and deletes them together: under load that is
   * one call instead of ten. Resolves with the messages that could not be deleted.
   */
  deleteBatch?(messages: readonly QueueMessage[]): Promise<QueueMessage[]>;
  /** @default 10 (the SQS limit) */
  readonly maxDeleteBatch?: number;
}

/**
 * How long a poller waits between receives that fail. Short on purpose: a failed receive costs the
 * service nothing, and a poller that waited 20 s after an outage kept every call waiting that long after
 * the service was back; capped at 1 s, polling resumes within about a second of its return.
 */
export const RECEIVE_ERROR_BACKOFF: Readonly<BackoffOptions> = { baseMs: 200, maxMs: 1_000 };

/** Resolves in the event loop's turn after the next one: after this turn's immediates and next turn's timers. */
function afterNextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** What happens to a message once its handling settled. */
export type Disposition =
  /** Its effect is durable: remove it from the queue. */
  | 'delete'
  /** Hand it to another consumer now (visibility 0). */
  | 'release'
  /**
   * Hand it to another consumer after a short while (visibility `QUEUE_DEFAULTS.deferredReleaseSeconds`):
   * for a message handed back several times already. Released at once, it goes to whichever consumer
   * asks next, which under load is as often as not one of those handing it back.
   */
  | 'defer'
  /** Leave it: it reappears after its visibility timeout and is tried again. */
  | 'retry';

export interface HandledMessage {
  /** Resolves when the message's effect is durable, with what to do with it. */
  settled: Promise<Disposition>;
}

export interface QueueConsumerOptions extends QueuePollingOptions {
  source: QueueSource;
  /** Hands one message over; resolve once handed over (not once done). */
  handle: (message: QueueMessage) => Promise<HandledMessage>;
  /** Messages with the same key are handed over one at a time, in arrival order. */
  orderingKey?: (message: QueueMessage) => string | undefined;
  /** Most messages that hold a slot (see `holdsSlot`) running at once. @default 100 */
  maxInFlight?: number;
  /**
   * Whether a message takes one of `maxInFlight`'s slots while it runs. A message that settles at once
   * (a notification) need not: it then never waits behind running ones, so a cancellation reaches the
   * request it cancels even when every slot is taken by requests waiting to be cancelled.
   * @default every message holds a slot
   */
  holdsSlot?: (message: QueueMessage) => boolean;
  /**
   * Most messages received and not yet done with: running, or waiting for a slot. Receiving pauses at
   * the limit. Messages waiting for a slot keep their visibility extended like running ones.
   * @default 4 × maxInFlight
   */
  maxReceived?: number;
  /**
   * How long a settled message may wait for others to be deleted with it, when the source deletes in
   * batches. Nothing waits on a deletion (the message's effect is already durable, and its slot is free),
   * so this costs no latency: it only keeps the message hidden a little longer. A full batch goes at once,
   * and stopping deletes what waits. Capped at a quarter of the visibility timeout.
   * @default 100
   */
  deleteLingerMs?: number;
  /** @deprecated the same as `receiveErrorBackoff`, which wins when both are given */
  errorBackoff?: BackoffOptions;
  logger?: Logger;
}

/**
 * One long-poll loop over one queue (PROTOCOL.md §6): long polls back to back, no pause after an empty
 * receive, jittered backoff only after errors, a visibility heartbeat while a message is running, and
 * deletion only once its effect is durable.
 */
export class QueueConsumer {
  readonly #options: QueueConsumerOptions;
  readonly #logger: Logger;
  readonly #order = new KeyedSerialQueue();
  readonly #running = new Set<Promise<void>>();
  readonly #backoff: Backoff;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #capacityWaiter: (() => void) | undefined;
  /** Slots taken, and the messages waiting for one, in arrival order (resolve(false): stopping). */
  #slotsTaken = 0;
  #slotWaiters: Array<(granted: boolean) => void> = [];
  #pendingDeletes: Array<{ message: QueueMessage; resolve: () => void; reject: (error: unknown) => void }> =
    [];
  #deleteTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  /** Consecutive receive failures; 0 once a receive succeeds. */
  #failures = 0;
  readonly stats = {
    received: 0,
    deleted: 0,
    released: 0,
    deferred: 0,
    retried: 0,
    receiveErrors: 0,
    handlerErrors: 0,
  };

  constructor(options: QueueConsumerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#backoff = new Backoff(options.receiveErrorBackoff ?? options.errorBackoff ?? RECEIVE_ERROR_BACKOFF);
  }

  get running(): boolean {
    return this.#loop !== undefined;
  }

  get inFlight(): number {
    return this.#running.size;
  }

  /** Whether the last receive succeeded (false while the queue is unreachable). */
  get healthy(): boolean {
    return this.#failures === 0;
  }

  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    const abort = new AbortController();
    this.#abort = abort;
    this.#loop = this.#poll(abort.signal);
  }

  /** Stops receiving; waits up to `timeoutMs` for running messages to settle. */
  async stop({ timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.#loop) return;
    this.#abort?.abort();
    this.#capacityWaiter?.();
    // Messages still waiting for a slot were never handed over: they go back for another consumer.
    for (const waiter of this.#slotWaiters.splice(0)) waiter(false);
    await this.#loop;
    this.#loop = undefined;
    // From now on a settled message is deleted at once: nothing is left waiting for company.
    this.#stopping = true;
    this.#flushDeletesNow();
    if (this.#running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.allSettled([...this.#running]), deadline]);
      clearTimeout(timer);
    }
  }

  async #poll(signal: AbortSignal): Promise<void> {
    const { source } = this.#options;
    const maxReceived = this.#options.maxReceived ?? 4 * (this.#options.maxInFlight ?? 100);
    while (!signal.aborted) {
      if (this.#running.size >= maxReceived) {
        await new Promise<void>((resolve) => {
          this.#capacityWaiter = resolve;
        });
        this.#capacityWaiter = undefined;
        continue;
      }
      let messages: QueueMessage[];
      try {
        messages = await source.receive({
          maxMessages: Math.min(this.#options.maxMessages ?? 10, maxReceived - this.#running.size),
          waitTimeSeconds: this.#options.waitTimeSeconds ?? 20,
          visibilityTimeoutSeconds:
            this.#options.visibilityTimeoutSeconds ?? QUEUE_DEFAULTS.visibilityTimeoutSeconds,
          signal,
        });
      } catch (error) {
        if (signal.aborted) break;
        this.stats.receiveErrors++;
        this.#failures++;
        const wait = this.#backoff.next();
        this.#logger.error(
          { queue: source.description, err: describeError(error), attempt: this.#failures, retryInMs: wait },
          'receive failed; retrying',
        );
        await delay(wait, signal);
        continue;
      }
      if (this.#failures > 0) {
        this.#logger.info({ queue: source.description, after: this.#failures }, 'receive recovered');
      }
      this.#failures = 0;
      this.#backoff.reset();
      this.stats.received += messages.length;
      for (const message of messages) this.#track(this.#process(message));
      // Let what the handed-over messages set off run before the next receive: building and signing a
      // request takes long enough (0.2–0.4 ms) to delay an answer behind it. Two turns, not one: a send
      // they make goes out on the turn after it was made (TurnBatcher), and an answer on an HTTP stream
      // that opened a moment ago waits for a timer of the SDK's server (it gathers the stream's first
      // chunks); both run before a receive deferred past the next turn.
      if (messages.length > 0) await afterNextTurn();
    }
  }

  #track(work: Promise<void>): void {
    this.#running.add(work);
    void work.finally(() => {
      this.#running.delete(work);
      this.#capacityWaiter?.();
    });
  }

  async #process(message: QueueMessage): Promise<void> {
    const stopHeartbeat = this.#heartbeat(message);
    const slot = this.#options.holdsSlot?.(message) ?? true;
    try {
      if (slot && !(await this.#takeSlot())) {
        await this.#dispose(message, 'release');
        return;
      }
      let disposition: Disposition | undefined;
      try {
        disposition = await this.#run(message);
      } finally {
        // Settled is done with: the slot goes to the next message while this one waits to be deleted.
        if (slot) this.#giveSlot();
      }
      if (disposition !== undefined) await this.#dispose(message, disposition);
    } finally {
      stopHeartbeat();
    }
  }

  #takeSlot(): Promise<boolean> {
    if (this.#slotsTaken < (this.#options.maxInFlight ?? 100) && this.#slotWaiters.length === 0) {
      this.#slotsTaken++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.#slotWaiters.push(resolve));
  }

  #giveSlot(): void {
    const next = this.#slotWaiters.shift();
    // The slot passes straight to the next waiter, so the count stays as it is.
    if (next) next(true);
    else this.#slotsTaken--;
  }

  /** Hands the message over and waits for it to settle; undefined when the handler failed (it is retried). */
  async #run(message: QueueMessage): Promise<Disposition | undefined> {
    const key = this.#options.orderingKey?.(message);
    let handled: HandledMessage;
    try {
      handled =
        key === undefined
          ? await this.#options.handle(message)
          : await this.#order.run(key, () => this.#options.handle(message));
    } catch (error) {
      this.stats.handlerErrors++;
      this.#logger.error(
        { queue: this.#options.source.description, messageId: message.messageId, err: describeError(error) },
        'message handler failed; the message will be retried after its visibility timeout',
      );
      return undefined;
    }
    let disposition: Disposition;
    try {
      disposition = await handled.settled;
    } catch (error) {
      this.stats.handlerErrors++;
      this.#logger.error(
        { messageId: message.messageId, err: describeError(error) },
        'message settlement failed',
      );
      disposition = 'retry';
    }
    return disposition;
  }

  /** Extends a running message's visibility every half timeout so no other consumer runs it too. */
  #heartbeat(message: QueueMessage): () => void {
    const seconds = this.#options.visibilityTimeoutSeconds ?? QUEUE_DEFAULTS.visibilityTimeoutSeconds;
    const timer = setInterval(
      () => {
        this.#options.source.changeVisibility(message, seconds).catch((error: unknown) => {
          this.#logger.warn(
            { messageId: message.messageId, err: describeError(error) },
            'visibility heartbeat failed',
          );
        });
      },
      Math.max(100, (seconds * 1000) / 2),
    );
    return () => clearInterval(timer);
  }

  /**
   * Queues a deletion for a batch that goes when it is full, after the linger, or at stop; resolves or
   * rejects with its outcome.
   */
  #deleteInBatch(message: QueueMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pendingDeletes.push({ message, resolve, reject });
      const full = this.#pendingDeletes.length >= Math.max(1, this.#options.source.maxDeleteBatch ?? 10);
      if (full || this.#stopping) this.#flushDeletesNow();
      else this.#deleteTimer ??= setTimeout(() => this.#flushDeletesNow(), this.#deleteLingerMs());
    });
  }

  #deleteLingerMs(): number {
    const visibilityMs =
      (this.#options.visibilityTimeoutSeconds ?? QUEUE_DEFAULTS.visibilityTimeoutSeconds) * 1000;
    return Math.max(0, Math.min(this.#options.deleteLingerMs ?? 100, visibilityMs / 4));
  }

  #flushDeletesNow(): void {
    clearTimeout(this.#deleteTimer);
    this.#deleteTimer = undefined;
    if (this.#pendingDeletes.length > 0) void this.#flushDeletes();
  }

  async #flushDeletes(): Promise<void> {
    const pending = this.#pendingDeletes;
    this.#pendingDeletes = [];
    const source = this.#options.source;
    const size = Math.max(1, source.maxDeleteBatch ?? 10);
    for (let start = 0; start < pending.length; start += size) {
      const chunk = pending.slice(start, start + size);
      try {
        const failed = new Set(
          await (source.deleteBatch as NonNullable<QueueSource['deleteBatch']>)(
            chunk.map((entry) => entry.message),
          ),
        );
        for (const entry of chunk) {
          if (failed.has(entry.message))
            entry.reject(new Error(`could not delete message ${entry.message.messageId}`));
          else entry.resolve();
        }
      } catch (error) {
        for (const entry of chunk) entry.reject(error);
      }
    }
  }

  async #dispose(message: QueueMessage, disposition: Disposition): Promise<void> {
    const { source } = this.#options;
    try {
      if (disposition === 'delete') {
        await (source.deleteBatch ? this.#deleteInBatch(message) : source.delete(message));
        this.stats.deleted++;
      } else if (disposition === 'release') {
        await source.changeVisibility(message, 0);
        this.stats.released++;
      } else if (disposition === 'defer') {
        await source.changeVisibility(message, QUEUE_DEFAULTS.deferredReleaseSeconds);
        this.stats.deferred++;
      } else {
        this.stats.retried++;
      }
    } catch (error) {
      this.#logger.warn(
        { queue: source.description, messageId: message.messageId, disposition, err: describeError(error) },
        'could not dispose of a message; it will be delivered again and deduplicated',
      );
    }
  }
}
