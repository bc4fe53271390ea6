import { randomUUID } from 'node:crypto';
import { type MessageAttributes, MessageTooLargeError } from '@asyncmcp/core';
import { sqsMessageSize } from '@asyncmcp/sqs';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
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

/**
 * Publishes to SNS topics with the checks of PROTOCOL.md §6 made before the call: the size (SNS counts
 * the message and its attributes' names, types and values, as SQS does) and the FIFO ids.
 */
export class SnsPublisher {
  constructor(private readonly snsClient: SNSClient) {}

  async publish(input: SnsPublishInput): Promise<void> {
    const limit = input.maxMessageBytes ?? SNS_MAX_MESSAGE_BYTES;
    const size = sqsMessageSize(input.body, input.attributes);
    if (size > limit) throw new MessageTooLargeError({ size, limit, channel: 'SNS message' });
    const fifo = isFifoTopic(input.topicArn);
    try {
      await this.snsClient.send(
        new PublishCommand({
          TopicArn: input.topicArn,
          Message: input.body,
          MessageAttributes: input.attributes,
          ...(fifo ? { MessageGroupId: input.groupId, MessageDeduplicationId: randomUUID() } : {}),
        }),
      );
    } catch (error) {
      throw toSnsDeliveryError(error, 'Publish', input.topicArn);
    }
  }
}
