import { randomBytes } from 'node:crypto';
import { describeError, type Logger } from '@asyncmcp/core';
import { CreateQueueCommand, DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { toSqsDeliveryError } from './sqs-errors.js';
import { isFifoQueue } from './sqs-queue.js';

/**
 * A worker's own queue: `'create'` makes one when the manager starts and deletes it when it stops;
 * `{ queueUrl }` uses a queue the operator made (one per worker, say per pod), which outlives restarts.
 */
export type WorkerInboxOption = 'create' | { queueUrl: string };

export interface WorkerInboxOptions {
  sqsClient: SQSClient;
  option: WorkerInboxOption;
  /** A created inbox is FIFO when the request queue is, so a session's order holds on both. */
  requestQueueUrl: string;
  /** @default 'asyncmcp-worker-' */
  namePrefix?: string;
  logger: Logger;
}

/**
 * The queue that reaches one worker alone. Several workers reading one request queue each receive a
 * session's messages only by chance; naming this queue in the `initialize` answer lets the client send
 * the session's later messages straight to the worker holding it.
 */
export class WorkerInbox {
  readonly #options: WorkerInboxOptions;
  #queueUrl: string | undefined;
  /** The name of the queue `open()` made; undefined for a given queue. */
  #created: string | undefined;

  constructor(options: WorkerInboxOptions) {
    this.#options = options;
    if (options.option !== 'create') this.#queueUrl = options.option.queueUrl;
  }

  get queueUrl(): string | undefined {
    return this.#queueUrl;
  }

  /** Makes the queue when asked to; resolves with its URL. */
  async open(): Promise<string> {
    if (this.#queueUrl !== undefined) return this.#queueUrl;
    const fifo = isFifoQueue(this.#options.requestQueueUrl);
    const name = `${this.#options.namePrefix ?? 'asyncmcp-worker-'}${randomBytes(6).toString('hex')}${fifo ? '.fifo' : ''}`;
    this.#queueUrl = await this.#create(name);
    this.#created = name;
    this.#options.logger.info({ inboxQueueUrl: this.#queueUrl }, 'created the worker inbox');
    return this.#queueUrl;
  }

  /**
   * Makes a created inbox again under its name (the URL every client holds), after the queue service lost
   * it; a given queue is the operator's to restore.
   */
  async remake(): Promise<void> {
    if (this.#created !== undefined) await this.#create(this.#created);
  }

  async #create(name: string): Promise<string> {
    const fifo = isFifoQueue(name);
    try {
      const created = await this.#options.sqsClient.send(
        new CreateQueueCommand({ QueueName: name, Attributes: fifo ? { FifoQueue: 'true' } : undefined }),
      );
      return created.QueueUrl as string;
    } catch (error) {
      throw toSqsDeliveryError(error, 'CreateQueue', name);
    }
  }

  /**
   * Deletes a queue this inbox made. A client that sends to it afterwards is refused at once, so it learns
   * the worker is gone without waiting; a given queue is kept.
   */
  async close(): Promise<void> {
    if (this.#created === undefined || this.#queueUrl === undefined) return;
    try {
      await this.#options.sqsClient.send(new DeleteQueueCommand({ QueueUrl: this.#queueUrl }));
    } catch (error) {
      this.#options.logger.warn(
        { inboxQueueUrl: this.#queueUrl, err: describeError(error) },
        'could not delete the worker inbox',
      );
    }
  }
}
