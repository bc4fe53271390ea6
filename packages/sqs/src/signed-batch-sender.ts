import { randomUUID } from 'node:crypto';
import {
  DeliveryError,
  type MessageAttributes,
  type MessageSigner,
  MessageTooLargeError,
  TurnBatcher,
} from '@asyncmcp/core';
import { type SqsMessageAttributes, sqsMessageSize, toSqsAttributes } from './sqs-attributes.js';

/** One message for a queue or a topic, before it is signed. */
export interface SignedBatchInput {
  /** The queue URL or topic ARN; one ending in `.fifo` gets FIFO ids. */
  destination: string;
  body: string;
  attributes: MessageAttributes;
  /** FIFO group: the session id, or the client id before a session exists. */
  groupId: string;
  /** Override of the size limit; otherwise the destination's own. */
  maxMessageBytes?: number | undefined;
}

/** What an entry of a batch call carries, for whichever AWS call the service takes. */
export interface AwsMessageEntry {
  body: string;
  attributes: SqsMessageAttributes;
  /** Present for a FIFO destination. */
  fifo?: { MessageGroupId: string; MessageDeduplicationId: string };
}

/** An entry a batch call refused, as SQS and SNS both report it. */
export interface AwsBatchFailure {
  Id?: string | undefined;
  Code?: string | undefined;
  Message?: string | undefined;
  SenderFault?: boolean | undefined;
}

/** The calls of one AWS service that put messages on its destinations. */
export interface AwsMessageService {
  /** Names the service in errors: `SQS`, `SNS`. */
  readonly service: string;
  /** The names of its calls, for errors: `{ one: 'SendMessage', batch: 'SendMessageBatch' }`. */
  readonly operations: { readonly one: string; readonly batch: string };
  /** The most bytes one batch call may carry. */
  readonly maxBatchBytes: number;
  /** The most bytes one message may hold on `destination`. */
  limitOf(destination: string): Promise<number>;
  sendOne(destination: string, entry: AwsMessageEntry): Promise<unknown>;
  /** Sends entries whose ids are their indexes (as strings); resolves with the refused ones. */
  sendBatch(
    destination: string,
    entries: readonly AwsMessageEntry[],
  ): Promise<readonly AwsBatchFailure[] | undefined>;
  /** An SDK error of one of these calls, in the words of the service. */
  deliveryError(error: unknown, operation: string, destination: string): DeliveryError;
}

/**
 * Puts messages on SQS queues or SNS topics with the checks of PROTOCOL.md §6 made before the call: the
 * size against the destination's limit (SQS and SNS count body and attributes alike) and FIFO ids, each
 * message signed first when there is a signer. Sends to one destination within one turn of the event loop
 * go out together as one batch call.
 */
export class SignedBatchSender {
  readonly #service: AwsMessageService;
  readonly #signer: MessageSigner | undefined;
  readonly #batcher: TurnBatcher<SignedBatchInput>;

  constructor(service: AwsMessageService, options: { signer?: MessageSigner | undefined } = {}) {
    this.#service = service;
    this.#signer = options.signer;
    this.#batcher = new TurnBatcher<SignedBatchInput>({
      maxEntries: 10,
      maxBytes: service.maxBatchBytes,
      sendOne: (destination, input) => this.#sendOne(destination, input),
      sendBatch: (destination, inputs) => this.#sendBatch(destination, inputs),
    });
  }

  async send(unsigned: SignedBatchInput): Promise<void> {
    const limit = unsigned.maxMessageBytes ?? (await this.#service.limitOf(unsigned.destination));
    // Signed after the limit is known, so the timestamp is as close to the send as it can be.
    const input = this.#signer
      ? { ...unsigned, attributes: this.#signer.sign(unsigned.body, unsigned.attributes) }
      : unsigned;
    const size = sqsMessageSize(input.body, input.attributes);
    if (size > limit) {
      throw new MessageTooLargeError({ size, limit, channel: `${this.#service.service} message` });
    }
    return this.#batcher.add(input.destination, input, size);
  }

  async #sendOne(destination: string, input: SignedBatchInput): Promise<void> {
    const { operations } = this.#service;
    try {
      await this.#service.sendOne(destination, entryOf(input));
    } catch (error) {
      throw this.#service.deliveryError(error, operations.one, destination);
    }
  }

  async #sendBatch(
    destination: string,
    inputs: readonly SignedBatchInput[],
  ): Promise<Array<Error | undefined>> {
    const { service, operations } = this.#service;
    let failures: readonly AwsBatchFailure[];
    try {
      failures = (await this.#service.sendBatch(destination, inputs.map(entryOf))) ?? [];
    } catch (error) {
      throw this.#service.deliveryError(error, operations.batch, destination);
    }
    const failed = new Map(failures.map((failure) => [failure.Id, failure]));
    return inputs.map((_, index) => {
      const failure = failed.get(String(index));
      if (!failure) return undefined;
      return new DeliveryError({
        message: `${service} ${operations.batch} refused a message on ${destination}: ${failure.Code ?? 'error'}: ${failure.Message ?? ''}`,
        isRetryable: failure.SenderFault !== true,
      });
    });
  }
}

/** A queue URL or topic ARN ending in `.fifo` needs a group id and a deduplication id on every send. */
export function isFifoDestination(destination: string): boolean {
  return destination.endsWith('.fifo');
}

function entryOf(input: SignedBatchInput): AwsMessageEntry {
  const entry: AwsMessageEntry = { body: input.body, attributes: toSqsAttributes(input.attributes) };
  if (isFifoDestination(input.destination)) {
    entry.fifo = { MessageGroupId: input.groupId, MessageDeduplicationId: randomUUID() };
  }
  return entry;
}
