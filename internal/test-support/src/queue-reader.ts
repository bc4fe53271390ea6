import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { JsonRpcSeen } from './python-wire.js';

/** How a reader turns what it receives into what it hands out, and finds the JSON-RPC message in that. */
export interface QueueDecoding<T> {
  decode(message: Message): T;
  rpcOf(item: T): JsonRpcSeen;
}

/**
 * Reads one queue with the raw SQS API as a peer on the other side of the wire would, deletes what it reads,
 * and hands messages out on demand, in arrival order.
 */
export class QueueReader<T> {
  readonly #buffer: T[] = [];

  constructor(
    private readonly sqsClient: SQSClient,
    readonly queueUrl: string,
    private readonly decoding: QueueDecoding<T>,
  ) {}

  /**
   * The next message that matches; bounded by `attempts` long polls of at most 1 s each, so a missing
   * message fails the test instead of hanging it.
   */
  async next(matches: (message: T) => boolean = () => true, attempts = 20): Promise<T> {
    for (let attempt = 0; attempt <= attempts; attempt++) {
      const index = this.#buffer.findIndex(matches);
      if (index >= 0) return this.#buffer.splice(index, 1)[0] as T;
      if (attempt === attempts) break;
      await this.#receive(1);
    }
    throw new Error(`no matching message arrived on ${this.queueUrl}`);
  }

  /** The next message whose JSON-RPC body satisfies `matches`. */
  nextRpc(matches: (rpc: JsonRpcSeen) => boolean = () => true, attempts?: number): Promise<T> {
    return this.next((message) => matches(this.decoding.rpcOf(message)), attempts);
  }

  /** Reads whatever else is on the queue now (one short poll), so a test can say nothing else came. */
  async drain(): Promise<readonly T[]> {
    await this.#receive(0);
    return this.#buffer;
  }

  /** Messages read but not handed out yet. */
  get pending(): readonly T[] {
    return this.#buffer;
  }

  async #receive(waitTimeSeconds: number): Promise<void> {
    const result = await this.sqsClient.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitTimeSeconds,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
      }),
    );
    for (const message of result.Messages ?? []) {
      await this.sqsClient.send(
        new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      this.#buffer.push(this.decoding.decode(message));
    }
  }
}

/** The JSON-RPC message in an SQS body sent straight to a queue. */
export function rpcOf(message: Message): JsonRpcSeen {
  return JSON.parse(message.Body ?? 'null') as JsonRpcSeen;
}

/** Hands out SQS messages as they were received. */
export class SqsQueueReader extends QueueReader<Message> {
  constructor(sqsClient: SQSClient, queueUrl: string) {
    super(sqsClient, queueUrl, { decode: (message) => message, rpcOf });
  }
}
