import type { MessageSigner, QueueMessage, QueueSource } from '@asyncmcp/core';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  type AwsMessageEntry,
  type AwsMessageService,
  isFifoDestination,
  type SignedBatchInput,
  SignedBatchSender,
} from './signed-batch-sender.js';
import { fromSqsAttributes } from './sqs-attributes.js';
import { toSqsDeliveryError } from './sqs-errors.js';

/** The largest message SQS accepts on any queue (body plus attributes). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

/** A queue whose URL ends in `.fifo` needs a group id and a deduplication id on every send. */
export const isFifoQueue: (queueUrl: string) => boolean = isFifoDestination;

/** One message for a queue; without `maxMessageBytes`, the queue's own `MaximumMessageSize` applies. */
export interface SqsSendInput extends Omit<SignedBatchInput, 'destination'> {
  queueUrl: string;
}

/** The fields of one message, the same in `SendMessage` and in a `SendMessageBatch` entry. */
function sqsEntry(entry: AwsMessageEntry) {
  return { MessageBody: entry.body, MessageAttributes: entry.attributes, ...entry.fifo };
}

/**
 * Sends to SQS queues with the checks of PROTOCOL.md §6 made before the call: size against the queue's
 * limit (read once per queue) and FIFO ids. Shared by every SQS transport of one client or manager.
 * Sends to one queue within one turn of the event loop go out together as a `SendMessageBatch`.
 */
export class SqsSender {
  readonly #limits = new Map<string, Promise<number>>();
  readonly #sender: SignedBatchSender;

  /** With a `signer`, every message is signed (body and attributes) as it is sent. */
  constructor(
    private readonly sqsClient: SQSClient,
    options: { signer?: MessageSigner | undefined } = {},
  ) {
    const sqs: AwsMessageService = {
      service: 'SQS',
      operations: { one: 'SendMessage', batch: 'SendMessageBatch' },
      maxBatchBytes: SQS_MAX_MESSAGE_BYTES,
      limitOf: (queueUrl) => this.#limitOf(queueUrl),
      sendOne: (QueueUrl, entry) => sqsClient.send(new SendMessageCommand({ QueueUrl, ...sqsEntry(entry) })),
      sendBatch: async (QueueUrl, entries) => {
        const Entries = entries.map((entry, index) => ({ Id: String(index), ...sqsEntry(entry) }));
        return (await sqsClient.send(new SendMessageBatchCommand({ QueueUrl, Entries }))).Failed;
      },
      deliveryError: toSqsDeliveryError,
    };
    this.#sender = new SignedBatchSender(sqs, { signer: options.signer });
  }

  send(input: SqsSendInput): Promise<void> {
    const { queueUrl, ...message } = input;
    return this.#sender.send({ destination: queueUrl, ...message });
  }

  /** The queue's `MaximumMessageSize`, asked once; the SQS maximum when the queue will not say. */
  #limitOf(queueUrl: string): Promise<number> {
    let limit = this.#limits.get(queueUrl);
    if (!limit) {
      limit = this.sqsClient
        .send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MaximumMessageSize'] }))
        .then(
          (result) => Number(result.Attributes?.MaximumMessageSize) || SQS_MAX_MESSAGE_BYTES,
          () => {
            this.#limits.delete(queueUrl);
            return SQS_MAX_MESSAGE_BYTES;
          },
        );
      this.#limits.set(queueUrl, limit);
    }
    return limit;
  }
}

/**
 * A message as `SqsQueueSource` reads it: core's flat attributes for the protocol, and the attributes
 * exactly as SQS gave them (types, binary values), so a copy of the message (to the dead-letter queue)
 * keeps what the flat map leaves out.
 */
export interface SqsQueueMessage extends QueueMessage {
  readonly sqsAttributes?: Readonly<Record<string, MessageAttributeValue>>;
}

/** The attributes of a message as SQS gave them, when an `SqsQueueSource` read it. */
export function receivedSqsAttributes(
  message: QueueMessage,
): Readonly<Record<string, MessageAttributeValue>> | undefined {
  return (message as SqsQueueMessage).sqsAttributes;
}

/** Adapts one SQS queue to core's `QueueSource`, so core's `QueueConsumer` can poll it. */
export class SqsQueueSource implements QueueSource {
  constructor(
    private readonly sqsClient: SQSClient,
    readonly queueUrl: string,
  ) {}

  get description(): string {
    return this.queueUrl;
  }

  async receive(request: {
    maxMessages: number;
    waitTimeSeconds: number;
    visibilityTimeoutSeconds: number;
    signal: AbortSignal;
  }): Promise<SqsQueueMessage[]> {
    try {
      const result = await this.sqsClient.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: Math.max(1, Math.min(10, request.maxMessages)),
          WaitTimeSeconds: request.waitTimeSeconds,
          VisibilityTimeout: request.visibilityTimeoutSeconds,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SenderId'],
        }),
        { abortSignal: request.signal },
      );
      return (result.Messages ?? []).map((message) => ({
        messageId: message.MessageId ?? '',
        receiptHandle: message.ReceiptHandle ?? '',
        body: message.Body ?? '',
        attributes: fromSqsAttributes(message.MessageAttributes),
        ...(message.MessageAttributes === undefined ? {} : { sqsAttributes: message.MessageAttributes }),
        receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
        ...(message.Attributes?.SenderId === undefined ? {} : { senderId: message.Attributes.SenderId }),
      }));
    } catch (error) {
      if (request.signal.aborted) return [];
      throw toSqsDeliveryError(error, 'ReceiveMessage', this.queueUrl);
    }
  }

  async delete(message: QueueMessage): Promise<void> {
    try {
      await this.sqsClient.send(
        new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.receiptHandle }),
      );
    } catch (error) {
      throw toSqsDeliveryError(error, 'DeleteMessage', this.queueUrl);
    }
  }

  readonly maxDeleteBatch = 10;

  async deleteBatch(messages: readonly QueueMessage[]): Promise<QueueMessage[]> {
    if (messages.length === 1) {
      await this.delete(messages[0] as QueueMessage);
      return [];
    }
    try {
      const result = await this.sqsClient.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: messages.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.receiptHandle,
          })),
        }),
      );
      return (result.Failed ?? [])
        .map((failure) => messages[Number(failure.Id)])
        .filter((m) => m !== undefined);
    } catch (error) {
      throw toSqsDeliveryError(error, 'DeleteMessageBatch', this.queueUrl);
    }
  }

  async changeVisibility(message: QueueMessage, seconds: number): Promise<void> {
    try {
      await this.sqsClient.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: message.receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    } catch (error) {
      throw toSqsDeliveryError(error, 'ChangeMessageVisibility', this.queueUrl);
    }
  }
}
