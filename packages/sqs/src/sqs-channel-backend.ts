import { randomBytes } from 'node:crypto';
import {
  Attribute,
  type BackendFleet,
  type BackendTransportContext,
  ClientSessionState,
  ConfigurationError,
  type Disposition,
  decodeMessage,
  encodeMessage,
  FleetSessionIds,
  generateSessionId,
  isAnswer,
  isInitializeResult,
  isValidSessionId,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type Logger,
  type MessageSigning,
  pickQueuePolling,
  QueueConsumer,
  type QueueMessage,
  RequestCorrelator,
  type RequestId,
  readWorkerHint,
  SessionTable,
  sessionLogId,
  sessionLostError,
  silentLogger,
  type Transport,
  TransportStateError,
} from '@asyncmcp/core';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ChannelBackendSession, type SessionChannel } from './channel-backend-session.js';
import { handleControlMessage } from './control-messages.js';
import { RecoveringQueueSource } from './recovering-queue-source.js';
import { type DestinationScope, destinationScopeOf, loggableUrl } from './response-destinations.js';
import { SnsEnvelopeUnwrapper } from './sns-envelope.js';
import type {
  SqsBackendStats,
  SqsChannelBackend,
  SqsChannelBackendOptions,
} from './sqs-channel-backend-options.js';
import type { SqsBackendChannel } from './sqs-channels.js';
import { toSqsDeliveryError } from './sqs-errors.js';
import { SqsSender } from './sqs-queue.js';
import { readableQueue, sqsMessageSigning, validateSignedCustomAttributes } from './sqs-signing.js';
import { WorkerLink } from './worker-link.js';

export type { SqsBackendStats, SqsChannelBackend, SqsChannelBackendOptions };

/**
 * A gateway backend that reads every session's answers from ONE SQS queue and sends through a channel
 * (PROTOCOL.md §7). The extension point under `sqsBackend` and `@asyncmcp/sns-sqs`'s `snsSqsBackend`:
 * each session proposes a session id, each forwarded request gets a gateway-unique id, and answers are
 * routed by that id first and by `SessionId` after, so they reach the right session even when servers
 * pick their own session ids.
 */
export function sqsChannelBackend<N extends string>(
  options: SqsChannelBackendOptions<N>,
): SqsChannelBackend<N> {
  return new SqsChannelBackendImpl(options);
}

class SqsChannelBackendImpl<N extends string> implements SqsChannelBackend<N>, SessionChannel {
  readonly specificationVersion = 'v1' as const;
  readonly name: N;
  readonly stats: SqsBackendStats = { routed: 0, unroutable: 0, invalid: 0, refused: 0, unmatched: 0 };
  readonly #signing: MessageSigning | undefined;
  readonly #options: SqsChannelBackendOptions<N>;
  readonly #channel: SqsBackendChannel;
  readonly #logger: Logger;
  readonly #correlator = new RequestCorrelator();
  /** Sends to workers' inboxes for every session, so one turn's sends to an inbox share a batch. */
  readonly #inboxSender: SqsSender;
  readonly #clientId: string;
  /** Live sessions by gateway key, by the session id they proposed, and by the one their server uses. */
  readonly #sessions = new SessionTable<ChannelBackendSession, 'proposed' | 'server'>();
  readonly #envelopes = new SnsEnvelopeUnwrapper();
  #responseQueueUrl: string | undefined;
  /** Where a worker's inbox may be: the response queue's endpoint and account. */
  #scope: DestinationScope | undefined;
  #meta: Readonly<Record<string, string>> = {};
  #consumer: QueueConsumer | undefined;
  /** The response queue as the poller reads it; made again when lost, and before a send when in doubt. */
  #responseQueue: RecoveringQueueSource | undefined;
  #starting: Promise<void> | undefined;
  #closed = false;
  /** Session keys and their queue session ids, when any instance may serve any session (PROTOCOL.md §7b). */
  readonly #fleetIds: FleetSessionIds | undefined;
  readonly fleet: BackendFleet | undefined;

  constructor(options: SqsChannelBackendOptions<N>) {
    this.name = options.name;
    this.#options = options;
    this.#channel = options.channel;
    this.#logger = options.logger ?? silentLogger;
    this.#signing = sqsMessageSigning(options);
    validateSignedCustomAttributes(this.#signing, options.messageAttributes);
    this.#inboxSender = new SqsSender(options.sqsClient, { signer: this.#signing?.signer });
    this.#clientId = options.clientId ?? `asyncmcp-gateway-${randomBytes(4).toString('hex')}`;
    // A channel that names sessions itself (to route answers by session) keeps its sessions to itself.
    if (options.channel.proposeSessionId === undefined) {
      const ids = new FleetSessionIds({ secret: options.signingSecret });
      this.#fleetIds = ids;
      this.fleet = { mintSessionKey: (client) => ids.mint(client), mayAdopt: (key) => ids.mayAdopt(key) };
    }
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
    const endpoint = await this.#channel.open();
    this.#scope = await destinationScopeOf({
      sqsClient: this.#options.sqsClient,
      homeQueueUrl: endpoint.responseQueueUrl,
    });
    this.#responseQueueUrl = endpoint.responseQueueUrl;
    this.#meta = endpoint.meta;
    // Closed while opening: `close()` removes what was opened, and nothing may poll it after that.
    if (this.#closed) return;
    // With a secret, an answer nobody signed with it (a forged one) is refused before it is routed.
    const source = readableQueue(this.#options.sqsClient, endpoint.responseQueueUrl, this.#signing, {
      logger: this.#logger,
      onRefused: () => this.stats.refused++,
    });
    // A response queue this backend made is made again when the queue service loses it.
    this.#responseQueue = new RecoveringQueueSource(source, {
      remake: () => this.#channel.remake?.() ?? Promise.resolve(),
      what: 'gateway response queue',
      logger: this.#logger,
    });
    this.#consumer = new QueueConsumer({
      source: this.#responseQueue,
      handle: async (message) => ({ settled: Promise.resolve(this.#route(message)) }),
      orderingKey: (message) => {
        const unwrapped = this.#envelopes.unwrap(message);
        return unwrapped.kind === 'message' ? unwrapped.attributes[Attribute.SessionId] : undefined;
      },
      ...pickQueuePolling(this.#options),
      logger: this.#logger,
    });
    this.#consumer.start();
  }

  async createTransport(context: BackendTransportContext): Promise<Transport> {
    await this.start();
    if (this.#closed) throw new TransportStateError('closed', 'backend');
    this.#sessions.assertVacant(context.sessionKey);
    if (context.adopted !== undefined && this.#fleetIds === undefined) {
      throw new ConfigurationError(`The ${this.name} backend cannot adopt sessions of other instances`);
    }
    // Whoever reads the queue must not learn the HTTP session id from the queue's: in a fleet the queue's
    // is a one-way function of it (every instance computes the same), otherwise a secret of its own.
    const proposedSessionId =
      this.#fleetIds?.queueSessionIdOf(context.sessionKey) ??
      this.#channel.proposeSessionId?.() ??
      generateSessionId('hex');
    const session = new ChannelBackendSession(this, context, proposedSessionId, {
      clientId: this.#clientId,
      meta: this.#meta,
      customAttributes: this.#options.messageAttributes,
      proposedSessionId,
      // The correlator gives every request an unguessable gateway-wide id already.
      wireIds: false,
    });
    this.#sessions.add(context.sessionKey, session, { proposed: proposedSessionId });
    if (context.adopted !== undefined) {
      // Opened by another instance: the server holds it under the id both compute; no initialize here.
      // A stateless worker needs the client of that initialize on every request: the key carries it.
      session.state.adoptFromFleet(proposedSessionId, {
        protocolVersion: context.adopted.protocolVersion,
        client: this.#fleetIds?.clientOf(context.sessionKey),
      });
      // Found by that id already, as the id it proposed (see `#sessionNamed`).
    }
    return session;
  }

  async checkReady(): Promise<void> {
    await this.#channel.checkReady();
    // The poller learns that the queue is back only when its long poll returns, up to its wait time
    // later: asked now, the queue itself says whether it can be read.
    if (this.#consumer && !this.#consumer.healthy && this.#responseQueueUrl !== undefined) {
      try {
        await this.#options.sqsClient.send(
          new GetQueueAttributesCommand({ QueueUrl: this.#responseQueueUrl, AttributeNames: ['QueueArn'] }),
        );
      } catch (error) {
        throw toSqsDeliveryError(error, 'GetQueueAttributes', this.#responseQueueUrl);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sessions.closeAll((session) => session.close());
    // A start still opening the channel finishes first, so what it made is removed below and its
    // poller (if it got that far) is stopped before the queue goes.
    await this.#starting?.catch(() => undefined);
    await this.#consumer?.stop({ timeoutMs: 0 });
    await this.#channel.close();
  }

  /** The `_meta` by which a message names this instance's response queue. */
  get answerMeta(): Readonly<Record<string, string>> {
    return this.#meta;
  }

  /** Sends one message of a session through the channel, with the session's envelope. */
  async sendFor(session: ChannelBackendSession, message: JSONRPCMessage): Promise<void> {
    const rewritten = this.#correlator.outbound(session.key, message);
    const prepared = session.state.prepare(rewritten);
    const outbound = {
      message: prepared.message,
      body: encodeMessage(prepared.message),
      attributes: prepared.attributes,
      groupId: session.state.sessionId ?? session.proposedSessionId,
    };
    try {
      // After a failed receive, the queue service may be back without our queue: the answer needs it.
      await this.#responseQueue?.ensure();
      // A session whose worker named its inbox talks to that worker alone.
      const link = session.link;
      await (link?.inbox === undefined ? this.#channel.send(outbound) : link.send(outbound));
    } catch (error) {
      // The request never left: forget it so a late answer cannot be routed to it.
      if (rewritten !== message && 'id' in rewritten && rewritten.id !== undefined)
        this.#correlator.discard(rewritten.id);
      throw error;
    }
  }

  /**
   * The worker holding a session is gone: each request still waiting on it is answered with an error
   * that says so (mapped back to the client's id), then the session closes, so the gateway's next
   * answer for it is 404 and the client starts over.
   */
  #lose(session: ChannelBackendSession, reason: string): void {
    this.#logger.warn(
      { sessionKey: sessionLogId(session.key), sessionId: sessionLogId(session.sessionId), reason },
      'session lost',
    );
    for (const wireId of session.link?.pendingIds() ?? []) {
      const answer = this.#correlator.inbound(
        sessionLostError(session.sessionId, reason, wireId as RequestId),
      );
      if (answer?.sessionKey === session.key) session.deliver(answer.message);
    }
    void session.close();
  }

  forget(session: ChannelBackendSession): void {
    this.#sessions.remove(session.key, session);
    this.#correlator.forgetSession(session.key);
  }

  /**
   * Whether an answer under `sessionId` may be for a request of `session`: once the server named the
   * session, only under that id; before (the answer to its `initialize`), under any valid id, as a server
   * may pick its own — the unguessable request id is what makes it the session's.
   */
  #answersFor(session: ChannelBackendSession, sessionId: string | undefined): boolean {
    if (sessionId === undefined) return false;
    const known = session.state.sessionId;
    return known === undefined ? isValidSessionId(sessionId) : sessionId === known;
  }

  /** Follows a worker's inbox hint when the inbox is on the gateway's endpoint and account. */
  #attach(session: ChannelBackendSession): void {
    const hint = session.state.worker;
    // Nothing to follow: no link is made, so a session without an inbox holds none.
    if (hint?.inbox === undefined && session.link === undefined) return;
    session.link ??= new WorkerLink({
      sqsClient: this.#options.sqsClient,
      sender: this.#inboxSender,
      onLost: (reason) => this.#lose(session, reason),
    });
    const refused = session.link.attach(hint, this.#scope);
    if (refused !== undefined) {
      this.#logger.warn(
        {
          sessionId: session.sessionId,
          inbox: loggableUrl(session.state.worker?.inbox ?? ''),
          reason: refused,
        },
        'worker inbox refused; the session keeps sending to the request channel',
      );
    }
  }

  /**
   * The session a message's session id names: the id its server uses, else the id it proposed. A server
   * that adopted the proposal (ours and Python's do) uses the proposed id, and is indexed under it once.
   */
  #sessionNamed(sessionId: string): ChannelBackendSession | undefined {
    return this.#sessions.find('server', sessionId) ?? this.#sessions.find('proposed', sessionId);
  }

  /** Routes one message from the response queue: by correlated request id first, then by session id. */
  #route(queued: QueueMessage): Disposition | Promise<Disposition> {
    const unwrapped = this.#envelopes.unwrap(queued);
    if (unwrapped.kind !== 'message') {
      return handleControlMessage(unwrapped, queued, this.#options.onControlMessage, this.#logger);
    }
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
    let session: ChannelBackendSession | undefined;
    let delivered: JSONRPCMessage = message;
    if (isAnswer(message)) {
      const pending = this.#correlator.peek(message.id);
      const asked = pending ? this.#sessions.get(pending.sessionKey) : undefined;
      if (!asked || !this.#answersFor(asked, sessionId)) {
        // An id we never minted, or one of ours under a session id that is not the asker's: forged, late
        // or a duplicate. The genuine answer, if still to come, finds its request waiting.
        this.stats.unmatched++;
        this.#logger.warn(
          { messageId: queued.messageId, sessionId, id: message.id },
          'answer for no request of this gateway dropped',
        );
        return 'delete';
      }
      const answer = this.#correlator.inbound(message);
      session = asked;
      if (answer) delivered = answer.message;
      if (isInitializeResult(delivered) && sessionId !== undefined && session.state.sessionId === undefined) {
        session.state.adopt(sessionId, delivered);
        // The state's copy of the id, not the one read from the message (a slice of all of it); a
        // server that took the proposed id finds the session by it already (see `#sessionNamed`).
        const serverId = session.state.sessionId ?? sessionId;
        if (serverId !== session.proposedSessionId) this.#sessions.index('server', serverId, session);
        this.#attach(session);
      } else if (session.state.worker === undefined && readWorkerHint(delivered) !== undefined) {
        // A session adopted from another instance learns where its worker is from its adoption ping.
        session.state.worker = readWorkerHint(delivered);
        this.#attach(session);
      }
    } else if (sessionId !== undefined) {
      session = this.#sessionNamed(sessionId);
    }
    if (!session) {
      this.stats.unroutable++;
      this.#logger.warn(
        {
          messageId: queued.messageId,
          sessionId: sessionLogId(sessionId),
          id: 'id' in message ? message.id : undefined,
        },
        'message for no live gateway session dropped',
      );
      return 'delete';
    }
    if (session.link?.received(message) === 'swallow') return 'delete';
    if (isProgressNotification(message)) {
      const restored = this.#correlator.restoreProgress(session.key, message);
      if (restored === undefined) {
        this.stats.unmatched++;
        this.#logger.warn(
          { messageId: queued.messageId, sessionId },
          'progress for no request of this gateway dropped',
        );
        return 'delete';
      }
      delivered = restored;
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

function isProgressNotification(message: JSONRPCMessage): message is JSONRPCNotification {
  return 'method' in message && !('id' in message) && message.method === 'notifications/progress';
}
