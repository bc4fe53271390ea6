import { randomBytes } from 'node:crypto';
import {
  Attribute,
  type Backend,
  type BackendMessageExtra,
  type BackendTransportContext,
  type BackoffOptions,
  ClientSessionState,
  ConfigurationError,
  type Disposition,
  decodeMessage,
  describeError,
  encodeMessage,
  isAnswer,
  isInitializeResult,
  type JSONRPCMessage,
  type Logger,
  MetaKey,
  QueueConsumer,
  type QueueMessage,
  RequestCorrelator,
  silentLogger,
  type Transport,
  TransportStateError,
  toError,
  unwrapSnsEnvelope,
} from '@asyncmcp/core';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { toSqsDeliveryError } from './sqs-errors.js';
import { SqsQueueSource, SqsSender } from './sqs-queue.js';

export interface SqsBackendOptions {
  sqsClient: SQSClient;
  /** The request queue of the async MCP server(s) the gateway forwards to. */
  requestQueueUrl: string;
  /**
   * The one queue every gateway session's answers come back on. When omitted, the backend creates a
   * queue of its own on first use and deletes it on `close()`.
   */
  responseQueueUrl?: string;
  /** Name prefix of a queue the backend creates. @default 'asyncmcp-gateway-' */
  responseQueueNamePrefix?: string;
  /** Sent as `ClientId` on every message. @default 'asyncmcp-gateway-' plus random hex */
  clientId?: string;
  /** @default 20 */
  waitTimeSeconds?: number;
  /** @default 10 */
  maxMessages?: number;
  /** @default 30 */
  visibilityTimeoutSeconds?: number;
  /** Extra attributes on every message; at most 3. */
  messageAttributes?: Record<string, string>;
  /** Size limit checked before sending. @default the request queue's `MaximumMessageSize` */
  maxMessageBytes?: number;
  /** Delays between receive attempts after errors. @default { baseMs: 200, maxMs: 20000 } */
  receiveErrorBackoff?: BackoffOptions;
  logger?: Logger;
}

export type SqsBackendStats = {
  /** Answers and server messages delivered to a gateway session. */
  routed: number;
  /** Messages that matched no live session (late, duplicate, after close): dropped with a log line. */
  unroutable: number;
  /** Messages on the response queue that were not JSON-RPC. */
  invalid: number;
};

export interface SqsBackend extends Backend {
  readonly name: 'sqs';
  /** The response queue in use, once started. */
  readonly responseQueueUrl: string | undefined;
  readonly stats: SqsBackendStats;
  /** Creates the response queue if needed and starts polling it. `createTransport` calls this. */
  start(): Promise<void>;
}

/**
 * The gateway backend over SQS (PROTOCOL.md §7): one poller on one response queue serves every gateway
 * session. Each session proposes its gateway key as the session id, and each forwarded request gets a
 * gateway-unique id, so answers are routed exactly even when servers pick their own session ids.
 */
export function sqsBackend(options: SqsBackendOptions): SqsBackend {
  return new SqsBackendImpl(options);
}

class SqsBackendImpl implements SqsBackend {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'sqs' as const;
  readonly stats: SqsBackendStats = { routed: 0, unroutable: 0, invalid: 0 };
  readonly #options: SqsBackendOptions;
  readonly #logger: Logger;
  readonly #sender: SqsSender;
  readonly #correlator = new RequestCorrelator();
  readonly #clientId: string;
  /** Live sessions by gateway key, and by the session id their server uses, when it differs. */
  readonly #sessions = new Map<string, SqsBackendSession>();
  readonly #byServerSessionId = new Map<string, SqsBackendSession>();
  #responseQueueUrl: string | undefined;
  #createdQueue = false;
  #consumer: QueueConsumer | undefined;
  #starting: Promise<void> | undefined;
  #closed = false;

  constructor(options: SqsBackendOptions) {
    if (!options.requestQueueUrl) throw new ConfigurationError('sqsBackend needs a requestQueueUrl');
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#sender = new SqsSender(options.sqsClient);
    this.#clientId = options.clientId ?? `asyncmcp-gateway-${randomBytes(4).toString('hex')}`;
    this.#responseQueueUrl = options.responseQueueUrl;
    // Validated once here so a bad option fails at configuration time, not on the first session.
    new ClientSessionState({ meta: {}, customAttributes: options.messageAttributes });
  }

  get responseQueueUrl(): string | undefined {
    return this.#responseQueueUrl;
  }

  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new TransportStateError('closed', 'backend'));
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    if (this.#responseQueueUrl === undefined) {
      const name = `${this.#options.responseQueueNamePrefix ?? 'asyncmcp-gateway-'}${randomBytes(6).toString('hex')}`;
      try {
        const created = await this.#options.sqsClient.send(new CreateQueueCommand({ QueueName: name }));
        this.#responseQueueUrl = created.QueueUrl;
        this.#createdQueue = true;
      } catch (error) {
        throw toSqsDeliveryError(error, 'CreateQueue', name);
      }
      this.#logger.info({ responseQueueUrl: this.#responseQueueUrl }, 'created the gateway response queue');
    }
    const queueUrl = this.#responseQueueUrl as string;
    this.#consumer = new QueueConsumer({
      source: new SqsQueueSource(this.#options.sqsClient, queueUrl),
      handle: async (message) => ({ settled: Promise.resolve(this.#route(message)) }),
      orderingKey: (message) => message.attributes[Attribute.SessionId]?.StringValue,
      waitTimeSeconds: this.#options.waitTimeSeconds,
      maxMessages: this.#options.maxMessages,
      visibilityTimeoutSeconds: this.#options.visibilityTimeoutSeconds,
      errorBackoff: this.#options.receiveErrorBackoff,
      logger: this.#logger,
    });
    this.#consumer.start();
  }

  async createTransport(context: BackendTransportContext): Promise<Transport> {
    await this.start();
    if (this.#sessions.has(context.sessionKey)) {
      throw new ConfigurationError(`A session with key ${context.sessionKey} is already open`);
    }
    const session = new SqsBackendSession(this, context, {
      clientId: this.#clientId,
      meta: { [MetaKey.ResponseQueueUrl]: this.#responseQueueUrl as string },
      customAttributes: this.#options.messageAttributes,
      proposedSessionId: context.sessionKey,
    });
    this.#sessions.set(context.sessionKey, session);
    return session;
  }

  async checkReady(): Promise<void> {
    try {
      await this.#options.sqsClient.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.#options.requestQueueUrl,
          AttributeNames: ['QueueArn'],
        }),
      );
    } catch (error) {
      throw toSqsDeliveryError(error, 'GetQueueAttributes', this.#options.requestQueueUrl);
    }
    if (this.#consumer && !this.#consumer.healthy) {
      throw new Error(`The response queue ${this.#responseQueueUrl} cannot be read`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#sessions.values()].map((session) => session.close()));
    await this.#consumer?.stop({ timeoutMs: 0 });
    if (this.#createdQueue && this.#responseQueueUrl) {
      try {
        await this.#options.sqsClient.send(new DeleteQueueCommand({ QueueUrl: this.#responseQueueUrl }));
      } catch (error) {
        this.#logger.warn(
          { responseQueueUrl: this.#responseQueueUrl, err: describeError(error) },
          'could not delete the response queue',
        );
      }
    }
  }

  /** Sends one message of a session to the request queue, with the session's envelope. */
  async sendFor(session: SqsBackendSession, message: JSONRPCMessage): Promise<void> {
    const rewritten = this.#correlator.outbound(session.key, message);
    const prepared = session.state.prepare(rewritten);
    try {
      await this.#sender.send({
        queueUrl: this.#options.requestQueueUrl,
        body: encodeMessage(prepared.message),
        attributes: prepared.attributes,
        groupId: session.state.sessionId ?? session.key,
        maxMessageBytes: this.#options.maxMessageBytes,
      });
    } catch (error) {
      // The request never left: forget it so a late answer cannot be routed to it.
      if (rewritten !== message && 'id' in rewritten && rewritten.id !== undefined)
        this.#correlator.discard(rewritten.id);
      throw error;
    }
  }

  forget(session: SqsBackendSession): void {
    this.#sessions.delete(session.key);
    const serverSessionId = session.state.sessionId;
    if (serverSessionId !== undefined && this.#byServerSessionId.get(serverSessionId) === session) {
      this.#byServerSessionId.delete(serverSessionId);
    }
    this.#correlator.forgetSession(session.key);
  }

  /** Routes one message from the response queue: by correlated request id first, then by session id. */
  #route(queued: QueueMessage): Disposition {
    const unwrapped = unwrapSnsEnvelope(queued.body, queued.attributes);
    if (unwrapped.kind !== 'message') return 'delete';
    const decoded = decodeMessage(unwrapped.body);
    if (!decoded.ok) {
      this.stats.invalid++;
      this.#logger.error(
        { messageId: queued.messageId, detail: decoded.error.error.message },
        'invalid message on the response queue dropped',
      );
      return 'delete';
    }
    const message = decoded.message;
    const sessionId = unwrapped.attributes[Attribute.SessionId];
    let session: SqsBackendSession | undefined;
    let delivered: JSONRPCMessage = message;
    if (isAnswer(message) && this.#correlator.owns(message.id)) {
      const answer = this.#correlator.inbound(message);
      session = answer ? this.#sessions.get(answer.sessionKey) : undefined;
      if (answer) delivered = answer.message;
      if (
        session &&
        isInitializeResult(delivered) &&
        sessionId !== undefined &&
        session.state.sessionId === undefined
      ) {
        session.state.sessionId = sessionId;
        this.#byServerSessionId.set(sessionId, session);
      }
    } else if (sessionId !== undefined) {
      session = this.#byServerSessionId.get(sessionId) ?? this.#sessions.get(sessionId);
    }
    if (!session) {
      this.stats.unroutable++;
      this.#logger.warn(
        { messageId: queued.messageId, sessionId, id: 'id' in message ? message.id : undefined },
        'message for no live gateway session dropped',
      );
      return 'delete';
    }
    this.stats.routed++;
    // The server may name the request a message belongs to (by the id it saw: ours); map it back.
    const related = this.#correlator.peek(unwrapped.attributes[Attribute.RelatedRequestId]);
    session.deliver(
      delivered,
      related?.sessionKey === session.key ? { relatedRequestId: related.originalId } : undefined,
    );
    return 'delete';
  }
}

/** One gateway session's transport: sends through the backend, receives what the backend routes to it. */
class SqsBackendSession implements Transport {
  readonly state: ClientSessionState;
  #closed = false;
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  constructor(
    private readonly backend: SqsBackendImpl,
    readonly context: BackendTransportContext,
    stateOptions: ConstructorParameters<typeof ClientSessionState>[0],
  ) {
    this.state = new ClientSessionState(stateOptions);
  }

  get key(): string {
    return this.context.sessionKey;
  }

  get sessionId(): string | undefined {
    return this.state.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.state.protocolVersion = version;
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new TransportStateError('closed');
    await this.backend.sendFor(this, message);
  }

  deliver(message: JSONRPCMessage, extra?: BackendMessageExtra): void {
    if (this.#closed) return;
    try {
      this.onmessage?.(message, extra);
    } catch (error) {
      this.onerror?.(toError(error));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.backend.forget(this);
    this.onclose?.();
  }
}
