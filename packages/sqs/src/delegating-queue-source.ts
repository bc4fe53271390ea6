import type { QueueMessage, QueueSource } from '@asyncmcp/core';

/**
 * A queue source that is `source` itself in all that a subclass does not override: the base of the
 * wrappers that watch what a queue's receives say about it.
 */
export class DelegatingQueueSource implements QueueSource {
  protected readonly source: QueueSource;

  constructor(source: QueueSource) {
    this.source = source;
  }

  get description(): string {
    return this.source.description;
  }

  get maxDeleteBatch(): number | undefined {
    return this.source.maxDeleteBatch;
  }

  receive(request: Parameters<QueueSource['receive']>[0]): Promise<QueueMessage[]> {
    return this.source.receive(request);
  }

  delete(message: QueueMessage): Promise<void> {
    return this.source.delete(message);
  }

  changeVisibility(message: QueueMessage, seconds: number): Promise<void> {
    return this.source.changeVisibility(message, seconds);
  }

  /** Deletes in batches when the source can; one by one otherwise. */
  async deleteBatch(messages: readonly QueueMessage[]): Promise<QueueMessage[]> {
    if (this.source.deleteBatch) return this.source.deleteBatch(messages);
    const failed: QueueMessage[] = [];
    for (const message of messages) await this.source.delete(message).catch(() => failed.push(message));
    return failed;
  }
}
