import { randomUUID } from 'node:crypto';
import {
  DeliveryError,
  type MessageAttributes,
  type MessageSigner,
  MessageTooLargeError,
  TurnBatcher,
} from '@asyncmcp/core';
import { sqsMessageSize } from '@asyncmcp/sqs';
import {
  type BatchResultErrorEntry,
  PublishBatchCommand,
  PublishCommand,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { toSnsDeliveryError } from './sns-errors.js';

/** The largest message SNS accepts by default: 256 KiB, counting the text and every attribute. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;

/** A topic whose ARN ends in `.fifo` needs a group id and a deduplication id on every publish. */
export function isFifoTopic(topicArn: string): boolean {
  return topicArn.endsWith('.fifo');
}

export interface SnsPublishInput {
  topicArn: string;
  /** The JSON-RPC text, published as `Message`. */
  body: string;
  attributes: MessageAttributes;
  /** FIFO group: the session id, or the client id before a session exists. */
  groupId: string;
  /** @default SNS_MAX_MESSAGE_BYTES */
  maxMessageBytes?: number | undefined;
}

/** The fields of one message, the same in `Publish` and in a `PublishBatch` entry. */
function entryOf(input: SnsPublishInput) {
  return {
    Message: input.body,
    MessageAttributes: input.attributes,
    ...(isFifoTopic(input.topicArn)
      ? { MessageGroupId: input.groupId, MessageDeduplicationId: randomUUID() }
      : {}),
  };
}

/**
 * Publishes to SNS topics with the checks of PROTOCOL.md §6 made before the call: the size (SNS counts
 * the message and its attributes' names, types and values, as SQS does) and the FIFO ids. Publishes to
 * one topic within one turn of the event loop go out together as a `PublishBatch`.
 */
export class SnsPublisher {
  readonly #batcher: TurnBatcher<SnsPublishInput>;
  readonly #signer: MessageSigner | undefined;

  /** With a `signer`, every message is signed (body and attributes) as it is published. */
  constructor(
    private readonly snsClient: SNSClient,
    options: { signer?: MessageSigner | undefined } = {},
  ) {
    this.#signer = options.signer;
    this.#batcher = new TurnBatcher<SnsPublishInput>({
      maxEntries: 10,
      // A batch's messages together must fit in one message's default limit.
      maxBytes: SNS_MAX_MESSAGE_BYTES,
      sendOne: (topicArn, input) => this.#publishOne(topicArn, input),
      sendBatch: (topicArn, inputs) => this.#publishBatch(topicArn, inputs),
    });
  }

  async publish(unsigned: SnsPublishInput): Promise<void> {
    const input = this.#signer
      ? { ...unsigned, attributes: this.#signer.sign(unsigned.body, unsigned.attributes) }
      : unsigned;
    const limit = input.maxMessageBytes ?? SNS_MAX_MESSAGE_BYTES;
    const size = sqsMessageSize(input.body, input.attributes);
    if (size > limit) throw new MessageTooLargeError({ size, limit, channel: 'SNS message' });
    return this.#batcher.add(input.topicArn, input, size);
  }

  async #publishOne(topicArn: string, input: SnsPublishInput): Promise<void> {
    try {
      await this.snsClient.send(new PublishCommand({ TopicArn: topicArn, ...entryOf(input) }));
    } catch (error) {
      throw toSnsDeliveryError(error, 'Publish', topicArn);
    }
  }

  async #publishBatch(
    topicArn: string,
    inputs: readonly SnsPublishInput[],
  ): Promise<Array<Error | undefined>> {
    let failures: BatchResultErrorEntry[];
    try {
      const result = await this.snsClient.send(
        new PublishBatchCommand({
          TopicArn: topicArn,
          PublishBatchRequestEntries: inputs.map((input, index) => ({
            Id: String(index),
            ...entryOf(input),
          })),
        }),
      );
      failures = result.Failed ?? [];
    } catch (error) {
      throw toSnsDeliveryError(error, 'PublishBatch', topicArn);
    }
    const failed = new Map(failures.map((failure) => [failure.Id, failure]));
    return inputs.map((_, index) => {
      const failure = failed.get(String(index));
      if (!failure) return undefined;
      return new DeliveryError({
        message: `SNS PublishBatch refused a message on ${topicArn}: ${failure.Code ?? 'error'}: ${failure.Message ?? ''}`,
        isRetryable: failure.SenderFault !== true,
      });
    });
  }
}
