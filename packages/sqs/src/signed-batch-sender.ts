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
  /** Names the message in errors: `SQS message`, `SNS message`. */
  readonly label: string;
  /** Names the batch call in errors: `SQS SendMessageBatch`. */
  readonly batchCall: string;
  /** The most bytes one message (and one batch) may hold on `destination`. */
  limitOf(destination: string): Promise<number>;
  sendOne(destination: string, entry: AwsMessageEntry): Promise<void>;
  /** Sends entries whose ids are their indexes (as strings); resolves with the refused ones. */
  sendBatch(destination: string, entries: readonly AwsMessageEntry[]): Promise<readonly AwsBatchFailure[]>;
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

  constructor(
    service: AwsMessageService,
    options: { signer?: MessageSigner | undefined; maxBatchBytes: number },
  ) {
    this.#service = service;
    this.#signer = options.signer;
    this.#batcher = new TurnBatcher<SignedBatchInput>({
      maxEntries: 10,
      maxBytes: options.maxBatchBytes,
      sendOne: (destination, input) => service.sendOne(destination, entryOf(input)),
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
    if (size > limit) throw new MessageTooLargeError({ size, limit, channel: this.#service.label });
    return this.#batcher.add(input.destination, input, size);
  }

  async #sendBatch(
    destination: string,
    inputs: readonly SignedBatchInput[],
  ): Promise<Array<Error | undefined>> {
    const failures = await this.#service.sendBatch(destination, inputs.map(entryOf));
    const failed = new Map(failures.map((failure) => [failure.Id, failure]));
    return inputs.map((_, index) => {
      const failure = failed.get(String(index));
      if (!failure) return undefined;
      return new DeliveryError({
        message: `${this.#service.batchCall} refused a message on ${destination}: ${failure.Code ?? 'error'}: ${failure.Message ?? ''}`,
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
