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
  type JSONRPCMessage,
  type JSONRPCRequest,
  type Logger,
  type MessageSigning,
  pickQueuePolling,
  QueueConsumer,
  type QueueMessage,
  SESSION_DEFAULTS,
  type SendTarget,
  SessionDispatcher,
  type SessionInfo,
  type SessionManager,
  StatelessDispatcher,
  sessionEndedNotification,
  silentLogger,
} from '@asyncmcp/core';
import { handleControlMessage } from './control-messages.js';
import { DeadLetters } from './dead-letters.js';
import { ReceiveFailureWatch } from './receive-failure-watch.js';
import { RecoveringQueueSource } from './recovering-queue-source.js';
import {
  type DestinationScope,
  destinationScopeOf,
  loggableUrl,
  queueRefusal,
} from './response-destinations.js';
import { SenderBinding } from './sender-binding.js';
import { SnsEnvelopeUnwrapper } from './sns-envelope.js';
import { sqsReplyChannel } from './sqs-default-channels.js';
import { SQS_WORKER_DEFAULTS } from './sqs-defaults.js';
import type { SqsSessionManagerOptions } from './sqs-session-manager-options.js';
import { readableQueue, sqsMessageSigning } from './sqs-signing.js';
import { WorkerHints } from './worker-hints.js';
import { WorkerInbox } from './worker-inbox.js';

export type { SqsSessionManagerOptions };

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
  /** The inbox as its consumer reads it, which makes it again when the queue service lost it. */
  #inboxSource: RecoveringQueueSource | undefined;
  readonly #hints: WorkerHints;
  /** Each received message unwrapped once, for both its ordering key and its handling. */
  readonly #envelopes = new SnsEnvelopeUnwrapper();
  readonly #signing: MessageSigning | undefined;
  readonly #senders: SenderBinding | undefined;
  readonly #deadLetters: DeadLetters;
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
    this.#hints = new WorkerHints({ aliveIntervalSeconds: options.aliveIntervalSeconds, stats: this.stats });
    this.#deadLetters = new DeadLetters(options.sqsClient, options.deadLetterQueueUrl, this.#logger);
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
    const send = async (
      original: JSONRPCMessage,
      { sessionId, address, relatedRequestId }: SendTarget<string>,
    ) => {
      const message = this.#hints.withHint(original, sessionId, this.#inbox?.queueUrl);
      // An answer that names the inbox is followed by the session's next messages, sent there: after a
      // failed receive the queue service may be back without it, and a client that found it missing
      // before it was made again would take the worker for gone.
      if (message !== original) await this.#inboxSource?.ensure();
      return await replies.send(
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
          this.#hints.forget(sessionId);
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
        options.deadLetterQueueUrl === undefined ? undefined : (message) => this.#deadLetters.copy(message),
      onRefused: () => this.stats.refused++,
    });
    const inbox = this.#inbox;
    // A created inbox is made again when the queue service loses it; the request queue is the operator's.
    const recovering =
      from === 'inbox' && inbox
        ? new RecoveringQueueSource(source, {
            remake: () => inbox.remake(),
            what: 'worker inbox',
            logger: this.#logger,
          })
        : undefined;
    if (recovering) this.#inboxSource = recovering;
    // The request queue failing says the queue service did: the inbox may be gone with it, though its own
    // consumer, at its limit, has not asked.
    const watched =
      from === 'shared' && inbox ? new ReceiveFailureWatch(source, () => this.#inboxSource?.doubt()) : source;
    return new QueueConsumer({
      source: recovering ?? watched,
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
    if (this.#stateful) this.#hints.startAliveTicker(this.#stateful);
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
    this.#hints.stop();
    const farewell: Farewell = (sessionId) => {
      if (!this.#hints.isUsingInbox(sessionId)) return undefined;
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
      const disposition = handleControlMessage(
        unwrapped,
        message,
        this.#options.onControlMessage,
        this.#logger,
      );
      return { settled: Promise.resolve(disposition) };
    }
    if (this.#senders && !this.#senders.admits(unwrapped.attributes[Attribute.SessionId], message.senderId)) {
      return { settled: this.#refuseSender(message) };
    }
    // A gateway instance asking after a session another opened (PROTOCOL.md §7b) does not know which
    // worker holds it: the others hand its question on, more often than other requests.
    const adoption = adoptionPingIn(unwrapped.body);
    const releases = this.#options.releaseUnknownSessions ?? SQS_WORKER_DEFAULTS.releaseUnknownSessions;
    const bound = adoption ? Math.max(releases, SESSION_DEFAULTS.adoptionHandBacks) : releases;
    // Only the request queue has other readers; nobody else would take a message from the inbox.
    const mayHandBack = from === 'shared' && (message.receiveCount ?? 1) <= bound;
    const result = await this.#dispatcher.dispatch(
      { body: unwrapped.body, attributes: unwrapped.attributes },
      { answerUnknownSession: !mayHandBack },
    );
    if (result.status === 'accepted') {
      // The worker holding the session answers the question with where to find it, as `initialize`.
      if (adoption) this.#hints.hintOnAnswer(result.sessionId, adoption.id);
      if (from === 'inbox') this.#hints.usesInbox(result.sessionId);
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
      // Another worker on this queue may own the session: hand the message back for it to take. At
      // once for the first half of the hand-backs; then a second at a time, because a worker busy with
      // its own messages may not ask again for a while, and those handing the message back ask at once:
      // handed back at once every time, it could run out of hand-backs within milliseconds.
      this.stats.handedBack++;
      const atOnce = (message.receiveCount ?? 1) <= Math.ceil(bound / 2);
      return { settled: Promise.resolve(atOnce ? 'release' : 'defer') };
    }
    this.stats.unroutable++;
    return { settled: Promise.resolve('delete') };
  }

  /** A message of a session from another sender than the one that opened it (`bindSessionsToSender`). */
  #refuseSender(message: QueueMessage): Promise<Disposition> {
    this.stats.refused++;
    return this.#deadLetters.setAside(
      message,
      'message refused: not from the sender that opened its session',
      { senderId: message.senderId },
      'warn',
    );
  }

  /** A message that will never be handled: logged, and kept in the dead-letter queue if there is one. */
  #setAside(message: QueueMessage, what: string, reason: string): Promise<Disposition> {
    return this.#deadLetters.setAside(message, what, { reason }, 'error');
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
