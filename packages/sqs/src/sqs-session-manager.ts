import {
  Attribute,
  adoptionPingIn,
  buildServerAttributes,
  ConfigurationError,
  DestinationRefusedError,
  type DispatchOptions,
  type DispatchResult,
  type Disposition,
  describeError,
  encodeMessage,
  type Farewell,
  type InboundMessage,
  isAnswer,
  isInitializeResult,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type Logger,
  type MessageSigning,
  MetaKey,
  pickQueuePolling,
  QueueConsumer,
  type QueueMessage,
  type QueuePollingOptions,
  type RequestId,
  readMeta,
  requestIdKey,
  SESSION_DEFAULTS,
  type SendTarget,
  type ServerFactory,
  SessionDispatcher,
  type SessionInfo,
  type SessionManager,
  StatelessDispatcher,
  sessionAliveNotification,
  sessionEndedNotification,
  silentLogger,
  systemClock,
  unrefTimer,
  WORKER_META_KEY,
  type WorkerHint,
  withResultMeta,
} from '@asyncmcp/core';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { RecoveringQueueSource } from './recovering-queue-source.js';
import {
  type DestinationScope,
  destinationScopeOf,
  loggableUrl,
  queueRefusal,
} from './response-destinations.js';
import { SenderBinding } from './sender-binding.js';
import { SnsEnvelopeUnwrapper } from './sns-envelope.js';
import type { SqsControlMessageHandler, SqsReplyChannel } from './sqs-channels.js';
import { isFifoQueue, SqsSender } from './sqs-queue.js';
import { readableQueue, type SqsSigningOptions, sqsMessageSigning } from './sqs-signing.js';
import { WorkerInbox, type WorkerInboxOption } from './worker-inbox.js';

export interface SqsSessionManagerOptions extends SqsSigningOptions, QueuePollingOptions {
  sqsClient: SQSClient;
  /** The queue every client sends to. */
  requestQueueUrl: string;
  /** Makes the MCP server of each new session (`() => new McpServer(...)` with its tools registered). */
  createServer: ServerFactory;
  /**
   * Messages that cannot be parsed, messages naming a response destination this manager refuses, and
   * with `signingSecret` messages refused for their signature, go
   * here before they are deleted. @default none (deleted with a log line)
   */
  deadLetterQueueUrl?: string;
  /**
   * Response destinations a message may name besides those of the request queue's own endpoint and
   * account (PROTOCOL.md §8, "Destinations"): queue URL prefixes (`https://sqs.eu-west-1.amazonaws.com/111122223333/`,
   * compared as parsed URLs) and, for `@asyncmcp/sns-sqs`, topic ARNs (a trailing `*` makes an ARN a
   * prefix). Any other destination is refused: logged, dead-lettered (or deleted), never answered.
   * @default none: only queues on the request queue's endpoint (the SQS client's explicit endpoint, or
   * the request queue URL's origin) and account, and topics in its account and region
   */
  allowedResponseDestinations?: readonly string[];
  /**
   * Most live sessions; `initialize` beyond it gets a JSON-RPC error; `Infinity` lifts
   * the limit. @default SESSION_DEFAULTS.maxSessions (1000)
   */
  maxSessions?: number;
  /**
   * Sessions idle this long (and not running a request) are closed; `Infinity` never.
   * @default SESSION_DEFAULTS.sessionIdleTimeoutMs (1800000, 30 minutes)
   */
  sessionIdleTimeoutMs?: number;
  /**
   * Most requests one session may have running at once; beyond it a request is answered at once with a
   * JSON-RPC error, so one session cannot take every slot (`maxInFlight`) of the manager.
   * @default SESSION_DEFAULTS.maxInFlightPerSession (32)
   */
  maxInFlightPerSession?: number;
  /**
   * For managers that share one request queue (workers): hand a message for a session this manager does
   * not hold back to the queue, up to this many receives of it, so the worker holding the session can
   * take it; after that it is dropped with a log line. Sessions live in the worker that opened them, so
   * with N workers a message needs about N receives on average. @default 0 (this manager is the queue's
   * only reader)
   */
  releaseUnknownSessions?: number;
  /**
   * A queue of this worker's own (`'create'`, or `{ queueUrl }` of one made for it). Its `initialize`
   * answers name it (`_meta["asyncmcp/worker"]`), so our clients and gateway send a session's later
   * messages there: with several workers on one request queue, each request is received once, by the
   * worker holding its session, and a client learns within seconds when that worker is gone. Peers that
   * ignore the hint keep using the request queue (then set `releaseUnknownSessions`).
   * @default none (every message comes through the request queue)
   */
  inbox?: WorkerInboxOption;
  /**
   * For servers that keep nothing per session: any manager on the request queue answers any request of
   * any session, from a pool of started servers, and a request whose worker died comes back after its
   * visibility timeout for another to answer. No session is held, so `inbox` cannot be given with it
   * (`ConfigurationError`), and `maxSessions`, `sessionIdleTimeoutMs`, `releaseUnknownSessions` and the
   * session callbacks are not used. Resource subscriptions get a JSON-RPC error.
   * @default false
   */
  stateless?: boolean;
  /**
   * Binds each session to the SQS `SenderId` (the IAM identity the queue service says sent it) of the
   * message that opened it, and refuses that session's messages from any other sender: logged,
   * dead-lettered when `deadLetterQueueUrl` is set, else deleted. It needs nothing of the client, so it
   * guards Python clients' sessions too. Only for messages sent straight to SQS: through SNS, every
   * message's sender is SNS itself (`@asyncmcp/sns-sqs` does not offer it). A client whose credentials
   * change identity mid-session (another role session name) loses its session. Not with `stateless`.
   * @default false
   */
  bindSessionsToSender?: boolean;
  /** Name prefix of an inbox this manager creates. @default 'asyncmcp-worker-' */
  inboxQueueNamePrefix?: string;
  /**
   * While a request of a session that uses the inbox runs, the worker tells its client it is alive this
   * often; a client that hears nothing for three intervals while a request waits takes the session as
   * lost. @default 3
   */
  aliveIntervalSeconds?: number;
  /**
   * Most requests running at once; more wait (their visibility kept) up to 4 × this many received, then
   * receiving pauses. Notifications, such as cancellations, never wait behind them. @default 100
   */
  maxInFlight?: number;
  /** How long `close()` waits for running requests. @default 10000 */
  shutdownTimeoutMs?: number;
  /** Size limit checked before sending to a client. @default the client queue's `MaximumMessageSize` */
  maxMessageBytes?: number;
  /**
   * Where each session's client is answered, and how. An extension point for transports built on this
   * manager (`@asyncmcp/sns-sqs` publishes to the topic named in `_meta.clientTopicArn`); such a channel
   * checks its own size limit, and `maxMessageBytes` is not used. With `signingSecret`, it must sign
   * what it sends with the same secret.
   * @default the SQS queue named in `_meta.responseQueueUrl`
   */
  replyChannel?: SqsReplyChannel;
  /**
   * What to do with SNS control messages on the request queue; an extension point like `replyChannel`.
   * @default log and delete them
   */
  onControlMessage?: SqsControlMessageHandler;
  logger?: Logger;
  onsessioninitialized?: (sessionId: string) => void;
  onsessionclosed?: (sessionId: string) => void;
}

/** What the manager asks of either dispatcher: `SessionDispatcher`, or `StatelessDispatcher` (`stateless`). */
interface Dispatcher {
  readonly stats: object;
  readonly sessions: ReadonlyMap<string, SessionInfo>;
  readonly inFlight: number;
  dispatch(inbound: InboundMessage, options?: DispatchOptions): Promise<DispatchResult<string>>;
  terminate(sessionId: string): Promise<boolean>;
  close(options?: { timeoutMs?: number; farewell?: Farewell }): Promise<void>;
}

/**
 * The server side of MCP over SQS: long-polls the request queue, opens one session (and one MCP server
 * from `createServer`) per `initialize`, answers each session on the response queue its client named,
 * and deletes a request only once its answer is sent (PROTOCOL.md §6).
 */
export class SqsSessionManager implements SessionManager {
  readonly #options: SqsSessionManagerOptions;
  readonly #logger: Logger;
  readonly #dispatcher: Dispatcher;
  /** The same dispatcher when it holds sessions (not `stateless`): idle ends, liveness. */
  readonly #stateful: SessionDispatcher<string> | undefined;
  readonly #consumer: QueueConsumer;
  #inbox: WorkerInbox | undefined;
  #inboxConsumer: QueueConsumer | undefined;
  /** Sessions whose client sends to the inbox: they know our extensions, so they hear of liveness. */
  readonly #affine = new Set<string>();
  /** Answers that carry this worker's hint besides `initialize`'s: to adoption pings, by session and id. */
  readonly #hintFor = new Set<string>();
  #aliveTimer: (() => void) | undefined;
  /** Each received message unwrapped once, for both its ordering key and its handling. */
  readonly #envelopes = new SnsEnvelopeUnwrapper();
  readonly #signing: MessageSigning | undefined;
  readonly #senders: SenderBinding | undefined;
  readonly stats = {
    poisoned: 0,
    unroutable: 0,
    handedBack: 0,
    aliveSent: 0,
    farewells: 0,
    /** With `signingSecret` or `bindSessionsToSender`: messages refused for their signature or sender. */
    refused: 0,
    /** Messages that named a response destination this manager does not send to. */
    refusedDestinations: 0,
  };
  /** Where a message may ask to be answered; read at `start()`. */
  #scope: DestinationScope | undefined;

  constructor(options: SqsSessionManagerOptions) {
    if (!options.requestQueueUrl) throw new ConfigurationError('SqsSessionManager needs a requestQueueUrl');
    if (typeof options.createServer !== 'function')
      throw new ConfigurationError('SqsSessionManager needs createServer');
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#signing = sqsMessageSigning(options);
    const replies = options.replyChannel ?? sqsReplyChannel(options, this.#signing);
    if (options.stateless && options.inbox !== undefined) {
      throw new ConfigurationError(
        'SqsSessionManager: inbox cannot be used with stateless (a stateless worker holds no session to send to it)',
      );
    }
    if (options.stateless && options.bindSessionsToSender) {
      throw new ConfigurationError(
        'SqsSessionManager: bindSessionsToSender cannot be used with stateless (a stateless worker holds no session to bind)',
      );
    }
    this.#senders = options.bindSessionsToSender ? new SenderBinding() : undefined;
    if (options.inbox !== undefined) {
      this.#inbox = new WorkerInbox({
        sqsClient: options.sqsClient,
        option: options.inbox,
        requestQueueUrl: options.requestQueueUrl,
        namePrefix: options.inboxQueueNamePrefix,
        logger: this.#logger,
      });
    }
    const send = (original: JSONRPCMessage, { sessionId, address, relatedRequestId }: SendTarget<string>) => {
      const message = this.#withHint(original, sessionId);
      return replies.send(
        {
          message,
          body: encodeMessage(message),
          attributes: buildServerAttributes({ message, sessionId, relatedRequestId }),
          groupId: sessionId,
        },
        address,
      );
    };
    const refusal = replies.destinationRefusal?.bind(replies) ?? queueRefusal;
    // Every address a message names passes here before anything is sent to it.
    const addressOf = (request: JSONRPCRequest, attributes: Readonly<Record<string, string>>) => {
      const address = replies.addressOf(request, attributes);
      if (address === undefined) return undefined;
      const reason = this.#scope === undefined ? 'the manager is not started' : refusal(this.#scope, address);
      if (reason !== undefined) {
        throw new DestinationRefusedError({ destination: loggableDestination(address), reason });
      }
      return address;
    };
    if (options.stateless) {
      this.#stateful = undefined;
      this.#dispatcher = new StatelessDispatcher<string>({
        createServer: options.createServer,
        addressOf,
        addressDescription: replies.addressDescription,
        send,
        logger: this.#logger,
      });
    } else {
      this.#stateful = new SessionDispatcher<string>({
        createServer: options.createServer,
        addressOf,
        addressDescription: replies.addressDescription,
        send,
        maxSessions: options.maxSessions,
        sessionIdleTimeoutMs: options.sessionIdleTimeoutMs,
        maxInFlightPerSession: options.maxInFlightPerSession,
        logger: this.#logger,
        onsessioninitialized: options.onsessioninitialized,
        onsessionclosed: (sessionId) => {
          this.#affine.delete(sessionId);
          for (const key of this.#hintFor) if (key.startsWith(`${sessionId}\0`)) this.#hintFor.delete(key);
          this.#senders?.forget(sessionId);
          options.onsessionclosed?.(sessionId);
        },
      });
      this.#dispatcher = this.#stateful;
    }
    this.#consumer = this.#consumerOf(options.requestQueueUrl, 'shared');
  }

  #consumerOf(queueUrl: string, from: 'shared' | 'inbox'): QueueConsumer {
    const options = this.#options;
    // With a secret, a message nobody signed with it (an injected request) never reaches a session.
    const source = readableQueue(options.sqsClient, queueUrl, this.#signing, {
      logger: this.#logger,
      deadLetter:
        options.deadLetterQueueUrl === undefined ? undefined : (message) => this.#deadLetter(message),
      onRefused: () => this.stats.refused++,
    });
    const inbox = this.#inbox;
    return new QueueConsumer({
      // A created inbox is made again when the queue service loses it; the request queue is the operator's.
      source:
        from === 'inbox' && inbox
          ? new RecoveringQueueSource(source, {
              remake: () => inbox.remake(),
              what: 'worker inbox',
              logger: this.#logger,
            })
          : source,
      handle: (message) => this.#handle(message, from),
      // One session's messages are handed over in arrival order; sessions do not wait on each other.
      // The attributes may be inside an SNS envelope, so the key is read from the unwrapped message.
      orderingKey: (message) => {
        const unwrapped = this.#envelopes.unwrap(message);
        if (unwrapped.kind !== 'message') return undefined;
        return unwrapped.attributes[Attribute.SessionId] ?? unwrapped.attributes[Attribute.ClientId];
      },
      // Only requests hold an in-flight slot: notifications and answers settle at once, so a
      // cancellation is read even when every slot is taken by the requests it cancels.
      holdsSlot: (message) => {
        const unwrapped = this.#envelopes.unwrap(message);
        return unwrapped.kind === 'message' && unwrapped.attributes[Attribute.RequestId] !== undefined;
      },
      ...pickQueuePolling(options),
      maxInFlight: options.maxInFlight,
      logger: this.#logger,
    });
  }

  /** The queue that reaches this worker alone, once started with an inbox. */
  get inboxQueueUrl(): string | undefined {
    return this.#inbox?.queueUrl;
  }

  get sessions(): ReadonlyMap<string, SessionInfo> {
    return this.#dispatcher.sessions;
  }

  /** Counters for metrics: the dispatcher's, the poller's and this manager's. */
  get metrics(): Record<string, number> {
    return {
      ...this.#dispatcher.stats,
      ...sumStats(this.#consumer.stats, this.#inboxConsumer?.stats),
      ...this.stats,
      inFlight: this.#consumer.inFlight + (this.#inboxConsumer?.inFlight ?? 0),
    };
  }

  async start(): Promise<void> {
    this.#scope ??= await destinationScopeOf({
      sqsClient: this.#options.sqsClient,
      homeQueueUrl: this.#options.requestQueueUrl,
      allowed: this.#options.allowedResponseDestinations,
    });
    if (this.#inbox) await this.#openInbox(this.#inbox);
    this.#consumer.start();
  }

  async #openInbox(inbox: WorkerInbox): Promise<void> {
    let inboxQueueUrl: string;
    try {
      inboxQueueUrl = await inbox.open();
    } catch (error) {
      // A queue given to us must work; one we only meant to make is a saving, not a need: without it,
      // sessions run through the request queue as with peers that ignore the hint.
      if (this.#options.inbox !== 'create') throw error;
      this.#logger.warn(
        { err: describeError(error) },
        'could not create a worker inbox; serving without one (with several workers, set releaseUnknownSessions)',
      );
      this.#inbox = undefined;
      return;
    }
    this.#inboxConsumer = this.#consumerOf(inboxQueueUrl, 'inbox');
    this.#inboxConsumer.start();
    this.#startAliveTicker();
  }

  /**
   * The hint an `initialize` answer, or an adoption ping's (PROTOCOL.md §7b), carries: where this
   * session's later messages go, and liveness.
   */
  #withHint<M extends JSONRPCMessage>(message: M, sessionId: string): M {
    const inbox = this.#inbox?.queueUrl;
    if (inbox === undefined) return message;
    const adopted =
      isAnswer(message) && message.id !== undefined && this.#hintFor.delete(answerKey(sessionId, message.id));
    if (!adopted && !isInitializeResult(message)) return message;
    const hint: WorkerHint = { inbox, aliveIntervalSeconds: this.#aliveIntervalSeconds };
    return withResultMeta(message, { [WORKER_META_KEY]: hint });
  }

  get #aliveIntervalSeconds(): number {
    return this.#options.aliveIntervalSeconds ?? 3;
  }

  /**
   * Tells the clients of requests that have run for half an interval or more that this worker is still
   * at it: a long tool is not a dead worker. Quick calls cost nothing.
   */
  #startAliveTicker(): void {
    const dispatcher = this.#stateful;
    if (!dispatcher) return;
    const intervalMs = this.#aliveIntervalSeconds * 1000;
    const tick = () => {
      for (const sessionId of dispatcher.sessionsBusyFor(intervalMs / 2)) {
        if (!this.#affine.has(sessionId)) continue;
        this.stats.aliveSent++;
        void dispatcher.notify(sessionId, sessionAliveNotification());
      }
      this.#aliveTimer = schedule();
    };
    const schedule = () => {
      const timer = unrefTimer(systemClock, tick, intervalMs);
      return () => systemClock.clearTimeout(timer);
    };
    this.#aliveTimer = schedule();
  }

  terminateSession(sessionId: string): Promise<boolean> {
    return this.#dispatcher.terminate(sessionId);
  }

  /**
   * Stops: sessions running nothing are ended at once, running requests get up to `shutdownTimeoutMs` to
   * be answered, then the rest end. Clients that use the inbox are told each of their sessions ended
   * (`notifications/asyncmcp/ended`), so they start over instead of waiting; a created inbox is deleted.
   */
  async close(): Promise<void> {
    const timeoutMs = this.#options.shutdownTimeoutMs ?? 10_000;
    this.#aliveTimer?.();
    const farewell: Farewell = (sessionId) => {
      if (!this.#affine.has(sessionId)) return undefined;
      this.stats.farewells++;
      return sessionEndedNotification('the worker holding the session is stopping');
    };
    await this.#stateful?.endIdleSessions(farewell);
    await Promise.all([this.#consumer.stop({ timeoutMs }), this.#inboxConsumer?.stop({ timeoutMs })]);
    await this.#dispatcher.close({ timeoutMs, farewell });
    await this.#inbox?.close();
  }

  async #handle(message: QueueMessage, from: 'shared' | 'inbox'): Promise<{ settled: Promise<Disposition> }> {
    const unwrapped = this.#envelopes.unwrap(message);
    if (unwrapped.kind !== 'message') {
      if (this.#options.onControlMessage)
        return { settled: this.#options.onControlMessage(unwrapped, message) };
      this.#logger.info(
        { kind: unwrapped.kind, topicArn: unwrapped.topicArn },
        'SNS control message deleted',
      );
      return { settled: Promise.resolve('delete') };
    }
    if (this.#senders && !this.#senders.admits(unwrapped.attributes[Attribute.SessionId], message.senderId)) {
      return { settled: this.#refuseSender(message) };
    }
    // A gateway instance asking after a session another opened (PROTOCOL.md §7b) does not know which
    // worker holds it: the others hand its question on, more often than other requests.
    const adoption = adoptionPingIn(unwrapped.body);
    const releases = this.#options.releaseUnknownSessions ?? 0;
    const bound = adoption ? Math.max(releases, SESSION_DEFAULTS.adoptionHandBacks) : releases;
    // Only the request queue has other readers; nobody else would take a message from the inbox.
    const mayHandBack = from === 'shared' && (message.receiveCount ?? 1) <= bound;
    const result = await this.#dispatcher.dispatch(
      { body: unwrapped.body, attributes: unwrapped.attributes },
      { answerUnknownSession: !mayHandBack },
    );
    if (result.status === 'accepted') {
      // The worker holding the session answers the question with where to find it, as `initialize`.
      if (adoption) this.#hintFor.add(answerKey(result.sessionId, adoption.id));
      if (from === 'inbox') this.#affine.add(result.sessionId);
      // The first message a session accepts is the `initialize` that opened it.
      this.#senders?.bind(result.sessionId, message.senderId);
      return { settled: result.settled.then((settlement) => (settlement === 'failed' ? 'retry' : 'delete')) };
    }
    // A stopping manager (either kind) hands the message back for another reader of the queue.
    if (result.reason === 'closing') return { settled: Promise.resolve('release') };
    if (result.reason === 'parse' || result.reason === 'validation') {
      this.stats.poisoned++;
      return { settled: this.#setAside(message, 'poison message', result.error.error.message) };
    }
    if (result.reason === 'refused-destination') {
      // Logged by the dispatcher; kept for inspection when there is a dead-letter queue, never answered.
      this.stats.refusedDestinations++;
      return {
        settled: this.#setAside(message, 'message naming a refused destination', result.error.error.message),
      };
    }
    if (result.reason === 'unknown-session' && mayHandBack) {
      // Another worker on this queue may own the session: hand the message back for it to take.
      this.stats.handedBack++;
      return { settled: Promise.resolve('release') };
    }
    this.stats.unroutable++;
    return { settled: Promise.resolve('delete') };
  }

  /** A message of a session from another sender than the one that opened it (`bindSessionsToSender`). */
  async #refuseSender(message: QueueMessage): Promise<Disposition> {
    this.stats.refused++;
    const dlq = this.#options.deadLetterQueueUrl;
    this.#logger.warn(
      { messageId: message.messageId, senderId: message.senderId, deadLetterQueueUrl: dlq },
      'message refused: not from the sender that opened its session',
    );
    if (!dlq) return 'delete';
    return (await this.#deadLetter(message)) ? 'delete' : 'retry';
  }

  /** A message that will never be handled: keep a copy in the dead-letter queue, if there is one. */
  async #setAside(message: QueueMessage, what: string, reason: string): Promise<Disposition> {
    const dlq = this.#options.deadLetterQueueUrl;
    this.#logger.error({ messageId: message.messageId, reason, deadLetterQueueUrl: dlq }, what);
    if (!dlq) return 'delete';
    return (await this.#deadLetter(message)) ? 'delete' : 'retry';
  }

  /** Copies a message to the dead-letter queue as it came; false when that failed (keep the message). */
  async #deadLetter(message: QueueMessage): Promise<boolean> {
    const dlq = this.#options.deadLetterQueueUrl as string;
    try {
      await this.#options.sqsClient.send(
        new SendMessageCommand({
          QueueUrl: dlq,
          MessageBody: message.body,
          MessageAttributes: Object.fromEntries(
            Object.entries(message.attributes)
              .filter(([, value]) => typeof value.StringValue === 'string')
              .map(([name, value]) => [
                name,
                { DataType: value.DataType ?? 'String', StringValue: value.StringValue },
              ]),
          ),
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

/** A queue URL without credentials or query; an ARN as it is. */
function loggableDestination(address: string): string {
  return address.startsWith('arn:') ? address : loggableUrl(address);
}

function sumStats(a: Record<string, number>, b: Record<string, number> | undefined): Record<string, number> {
  if (!b) return { ...a };
  return Object.fromEntries(Object.entries(a).map(([name, value]) => [name, value + (b[name] ?? 0)]));
}

/** The default reply channel: the SQS queue each client names in `_meta.responseQueueUrl`. */
function sqsReplyChannel(
  options: SqsSessionManagerOptions,
  signing: MessageSigning | undefined,
): SqsReplyChannel {
  const sender = new SqsSender(options.sqsClient, { signer: signing?.signer });
  return {
    addressDescription: `_meta.${MetaKey.ResponseQueueUrl}`,
    addressOf: (initialize) => readMeta(initialize, MetaKey.ResponseQueueUrl),
    send: (outbound, queueUrl) =>
      sender.send({
        queueUrl,
        body: outbound.body,
        attributes: outbound.attributes,
        groupId: outbound.groupId,
        maxMessageBytes: options.maxMessageBytes,
      }),
  };
}

function answerKey(sessionId: string, id: RequestId): string {
  return `${sessionId}\0${requestIdKey(id)}`;
}
