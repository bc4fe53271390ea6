import type { QueueMessage, QueueSource } from '@asyncmcp/core';

/**
 * A queue source that tells `onFailure` of each receive that fails, and is otherwise `source` itself: how
 * a worker learns from its request queue that the queue service failed, for the queues it made there.
 */
export class ReceiveFailureWatch implements QueueSource {
  readonly #source: QueueSource;
  readonly #onFailure: () => void;

  constructor(source: QueueSource, onFailure: () => void) {
    this.#source = source;
    this.#onFailure = onFailure;
  }

  get description(): string {
    return this.#source.description;
  }

  get maxDeleteBatch(): number | undefined {
    return this.#source.maxDeleteBatch;
  }

  async receive(request: Parameters<QueueSource['receive']>[0]): Promise<QueueMessage[]> {
    try {
      return await this.#source.receive(request);
    } catch (error) {
      if (!request.signal.aborted) this.#onFailure();
      throw error;
    }
  }

  delete(message: QueueMessage): Promise<void> {
    return this.#source.delete(message);
  }

  changeVisibility(message: QueueMessage, seconds: number): Promise<void> {
    return this.#source.changeVisibility(message, seconds);
  }

  /** Deletes in batches when the source can; one by one otherwise. */
  async deleteBatch(messages: readonly QueueMessage[]): Promise<QueueMessage[]> {
    if (this.#source.deleteBatch) return this.#source.deleteBatch(messages);
    const failed: QueueMessage[] = [];
    for (const message of messages) await this.#source.delete(message).catch(() => failed.push(message));
    return failed;
  }
}
