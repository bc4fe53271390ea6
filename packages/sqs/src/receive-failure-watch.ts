import type { QueueMessage, QueueSource } from '@asyncmcp/core';
import { DelegatingQueueSource } from './delegating-queue-source.js';

/**
 * A queue source that tells `onFailure` of each receive that fails, and is otherwise `source` itself: how
 * a worker learns from its request queue that the queue service failed, for the queues it made there.
 */
export class ReceiveFailureWatch extends DelegatingQueueSource {
  readonly #onFailure: () => void;

  constructor(source: QueueSource, onFailure: () => void) {
    super(source);
    this.#onFailure = onFailure;
  }

  override async receive(request: Parameters<QueueSource['receive']>[0]): Promise<QueueMessage[]> {
    try {
      return await this.source.receive(request);
    } catch (error) {
      if (!request.signal.aborted) this.#onFailure();
      throw error;
    }
  }
}
