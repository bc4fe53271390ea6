import {
  type BackoffOptions,
  ClientSessionState,
  ConfigurationError,
  decodeMessage,
  encodeMessage,
  type Logger,
  MetaKey,
  QueueConsumer,
  type QueueMessage,
  silentLogger,
  type Transport,
  TransportStateError,
  toError,
  unwrapSnsEnvelope,
} from '@asyncmcp/core';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { SqsQueueSource, SqsSender } from './sqs-queue.js';

export interface SqsClientTransportOptions {
  sqsClient: SQSClient;
  /** The server's request queue; every client sends there. */
  requestQueueUrl: string;
  /** This client's own queue; named to the server in `initialize` as `_meta.responseQueueUrl`. */
  responseQueueUrl: string;
  /** Sent as `ClientId`. @default a random UUID */
  clientId?: string;
  /** Long-poll wait. @default 20 */
  waitTimeSeconds?: number;
  /** @default 10 */
  maxMessages?: number;
  /** @default 30 */
  visibilityTimeoutSeconds?: number;
  /** Extra attributes on every message; at most 3, and no protocol attribute names. */
  messageAttributes?: Record<string, string>;
  /** Size limit checked before sending. @default the request queue's `MaximumMessageSize` */
  maxMessageBytes?: number;
  /** Delays between receive attempts after errors. @default { baseMs: 200, maxMs: 20000 } */
  receiveErrorBackoff?: BackoffOptions;
  logger?: Logger;
}

/**
 * An MCP client transport over SQS: `new Client(...).connect(new SqsClientTransport(...))`. Sends to the
 * server's request queue, long-polls its own response queue, and performs the handshake of PROTOCOL.md
 * §1 (`_meta.responseQueueUrl` in `initialize`, the session id adopted from the answer).
 */
export class SqsClientTransport implements Transport {
  readonly #options: SqsClientTransportOptions;
  readonly #state: ClientSessionState;
  readonly #sender: SqsSender;
  readonly #logger: Logger;
  #consumer: QueueConsumer | undefined;
  #closed = false;
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  constructor(options: SqsClientTransportOptions) {
    if (!options.requestQueueUrl) throw new ConfigurationError('SqsClientTransport needs a requestQueueUrl');
    if (!options.responseQueueUrl)
      throw new ConfigurationError('SqsClientTransport needs a responseQueueUrl');
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#state = new ClientSessionState({
      clientId: options.clientId,
      meta: { [MetaKey.ResponseQueueUrl]: options.responseQueueUrl },
      customAttributes: options.messageAttributes,
    });
    this.#sender = new SqsSender(options.sqsClient);
  }

  get sessionId(): string | undefined {
    return this.#state.sessionId;
  }

  get clientId(): string {
    return this.#state.clientId;
  }

  setProtocolVersion(version: string): void {
    this.#state.protocolVersion = version;
  }

  async start(): Promise<void> {
    if (this.#consumer) throw new Error('SqsClientTransport already started');
    if (this.#closed) throw new TransportStateError('closed');
    this.#consumer = new QueueConsumer({
      source: new SqsQueueSource(this.#options.sqsClient, this.#options.responseQueueUrl),
      handle: async (message) => ({ settled: Promise.resolve(this.#receive(message)) }),
      orderingKey: () => 'client',
      waitTimeSeconds: this.#options.waitTimeSeconds,
      maxMessages: this.#options.maxMessages,
      visibilityTimeoutSeconds: this.#options.visibilityTimeoutSeconds,
      errorBackoff: this.#options.receiveErrorBackoff,
      logger: this.#logger,
    });
    this.#consumer.start();
  }

  #receive(queued: QueueMessage): 'delete' | 'release' {
    const unwrapped = unwrapSnsEnvelope(queued.body, queued.attributes);
    if (unwrapped.kind !== 'message') return 'delete';
    const decoded = decodeMessage(unwrapped.body);
    if (!decoded.ok) {
      this.onerror?.(
        new Error(`Discarded an invalid message from the response queue: ${decoded.error.error.message}`),
      );
      return 'delete';
    }
    if (!this.#state.accept(decoded.message, unwrapped.attributes)) {
      // Another session's message on a shared queue: let its own reader have it.
      this.#logger.warn(
        { sessionId: this.sessionId, other: unwrapped.attributes.SessionId },
        'message for another session released',
      );
      return 'release';
    }
    try {
      this.onmessage?.(decoded.message);
    } catch (error) {
      this.onerror?.(toError(error));
    }
    return 'delete';
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new TransportStateError('closed');
    if (!this.#consumer) throw new TransportStateError('not-started');
    const prepared = this.#state.prepare(message);
    await this.#sender.send({
      queueUrl: this.#options.requestQueueUrl,
      body: encodeMessage(prepared.message),
      attributes: prepared.attributes,
      groupId: this.#state.sessionId ?? this.#state.clientId,
      maxMessageBytes: this.#options.maxMessageBytes,
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#consumer?.stop({ timeoutMs: 0 });
    this.onclose?.();
  }
}
