import {
  describeError,
  isDestinationGone,
  type Logger,
  type QueueMessage,
  type QueueSource,
} from '@asyncmcp/core';
import { DelegatingQueueSource } from './delegating-queue-source.js';

export interface RecoveringQueueSourceOptions {
  /** Makes the queue again under its old name, so every address already handed out stays right. */
  remake: () => Promise<void>;
  /** What the queue is, for log lines, e.g. `gateway response queue`. */
  what: string;
  logger: Logger;
}

/**
 * A queue this process made itself, read through `source` (an SQS queue, verified or not): when a receive finds it gone (the queue
 * service lost its state, or someone deleted it) it is made again, once however many receives fail,
 * and polling carries on. A queue the operator gave is never made here: it stays theirs to restore.
 */
export class RecoveringQueueSource extends DelegatingQueueSource {
  readonly #options: RecoveringQueueSourceOptions;
  #remaking: Promise<boolean> | undefined;
  /** A receive failed since the last that worked: the queue service may have come back without the queue. */
  #inDoubt = false;

  constructor(source: QueueSource, options: RecoveringQueueSourceOptions) {
    super(source);
    this.#options = options;
  }

  override async receive(request: Parameters<QueueSource['receive']>[0]): Promise<QueueMessage[]> {
    try {
      const messages = await this.source.receive(request);
      this.#inDoubt = false;
      return messages;
    } catch (error) {
      this.#inDoubt = true;
      // The failed receive still counts as one: the poller logs it and backs off briefly, and its next
      // receive finds the queue made again.
      if (isDestinationGone(error))
        await this.#remake(`made the ${this.#options.what} again: the queue service no longer had it`);
      throw error;
    }
  }

  /**
   * Another call to the same queue service failed (another queue's receive): the service may come back
   * without this queue too, though no receive of this one has failed (its consumer may not be receiving
   * at all, at its limit of messages). The next `ensure()` makes it again.
   */
  doubt(): void {
    this.#inDoubt = true;
  }

  /**
   * Makes the queue again first when a receive failed since the last one that worked, and does nothing
   * otherwise. Call it before sending a message whose answer comes to this queue: the poller may not
   * have found the queue missing yet, and an answer sent to a missing queue is lost.
   */
  async ensure(): Promise<void> {
    if (this.#inDoubt) await this.#remake(`made sure the ${this.#options.what} exists: a receive had failed`);
  }

  #remake(done: string): Promise<boolean> {
    this.#remaking ??= this.#options
      .remake()
      .then(
        () => {
          this.#inDoubt = false;
          this.#options.logger.info({ queue: this.source.description }, done);
          return true;
        },
        (error: unknown) => {
          this.#options.logger.warn(
            { queue: this.source.description, err: describeError(error) },
            `could not make the ${this.#options.what} again; trying at the next receive`,
          );
          return false;
        },
      )
      .finally(() => {
        this.#remaking = undefined;
      });
    return this.#remaking;
  }
}
