import { type Disposition, describeError, type Logger, type QueueMessage } from '@asyncmcp/core';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { toSqsAttributes } from './sqs-attributes.js';
import { isFifoQueue, receivedSqsAttributes } from './sqs-queue.js';

/**
 * Where messages that will never be handled go (poison, refused senders, refused destinations): copied
 * as they came to the dead-letter queue when there is one, so an operator can look at them, and only
 * then deleted. A copy that fails keeps the message, rather than lose it.
 */
export class DeadLetters {
  readonly #sqsClient: SQSClient;
  readonly #queueUrl: string | undefined;
  readonly #logger: Logger;

  constructor(sqsClient: SQSClient, queueUrl: string | undefined, logger: Logger) {
    this.#sqsClient = sqsClient;
    this.#queueUrl = queueUrl;
    this.#logger = logger;
  }

  /** Logs why `message` is set aside and copies it when there is a dead-letter queue; what to do with it. */
  async setAside(
    message: QueueMessage,
    what: string,
    fields: Record<string, unknown>,
    level: 'warn' | 'error',
  ): Promise<Disposition> {
    const dlq = this.#queueUrl;
    this.#logger[level]({ messageId: message.messageId, ...fields, deadLetterQueueUrl: dlq }, what);
    if (!dlq) return 'delete';
    return (await this.copy(message)) ? 'delete' : 'retry';
  }

  /** Copies a message to the dead-letter queue as it came; false when that failed (keep the message). */
  async copy(message: QueueMessage): Promise<boolean> {
    const dlq = this.#queueUrl;
    if (dlq === undefined) return false;
    try {
      await this.#sqsClient.send(
        new SendMessageCommand({
          QueueUrl: dlq,
          MessageBody: message.body,
          // As SQS gave them when there is a record (custom types and binary values included).
          MessageAttributes: receivedSqsAttributes(message) ?? toSqsAttributes(message.attributes),
          ...(isFifoQueue(dlq)
            ? { MessageGroupId: 'poison', MessageDeduplicationId: message.messageId }
            : {}),
        }),
      );
      return true;
    } catch (error) {
      // Keep the message rather than lose it; it comes back after its visibility timeout.
      this.#logger.error(
        { messageId: message.messageId, err: describeError(error) },
        'could not dead-letter a message',
      );
      return false;
    }
  }
}
