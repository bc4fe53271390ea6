import type { MessageSigner } from '@asyncmcp/core';
import {
  type AwsMessageEntry,
  type AwsMessageService,
  isFifoDestination,
  type SignedBatchInput,
  SignedBatchSender,
} from '@asyncmcp/sqs';
import { PublishBatchCommand, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { toSnsDeliveryError } from './sns-errors.js';

/** The largest message SNS accepts by default: 256 KiB, counting the text and every attribute. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;

/** A topic whose ARN ends in `.fifo` needs a group id and a deduplication id on every publish. */
export const isFifoTopic: (topicArn: string) => boolean = isFifoDestination;

/** One message for a topic, its text published as `Message`; the size limit defaults to `SNS_MAX_MESSAGE_BYTES`. */
export interface SnsPublishInput extends Omit<SignedBatchInput, 'destination'> {
  topicArn: string;
}

/** The fields of one message, the same in `Publish` and in a `PublishBatch` entry. */
function snsEntry(entry: AwsMessageEntry) {
  return { Message: entry.body, MessageAttributes: entry.attributes, ...entry.fifo };
}

/**
 * Publishes to SNS topics with the checks of PROTOCOL.md §6 made before the call: the size (SNS counts
 * the message and its attributes' names, types and values, as SQS does) and the FIFO ids. Publishes to
 * one topic within one turn of the event loop go out together as a `PublishBatch`.
 */
export class SnsPublisher {
  readonly #sender: SignedBatchSender;

  /** With a `signer`, every message is signed (body and attributes) as it is published. */
  constructor(snsClient: SNSClient, options: { signer?: MessageSigner | undefined } = {}) {
    const sns: AwsMessageService = {
      service: 'SNS',
      operations: { one: 'Publish', batch: 'PublishBatch' },
      // A batch's messages together must fit in one message's default limit.
      maxBatchBytes: SNS_MAX_MESSAGE_BYTES,
      limitOf: async () => SNS_MAX_MESSAGE_BYTES,
      sendOne: (TopicArn, entry) => snsClient.send(new PublishCommand({ TopicArn, ...snsEntry(entry) })),
      sendBatch: async (TopicArn, entries) => {
        const PublishBatchRequestEntries = entries.map((entry, index) => ({
          Id: String(index),
          ...snsEntry(entry),
        }));
        return (await snsClient.send(new PublishBatchCommand({ TopicArn, PublishBatchRequestEntries })))
          .Failed;
      },
      deliveryError: toSnsDeliveryError,
    };
    this.#sender = new SignedBatchSender(sns, { signer: options.signer });
  }

  publish(input: SnsPublishInput): Promise<void> {
    const { topicArn, ...message } = input;
    return this.#sender.send({ destination: topicArn, ...message });
  }
}
