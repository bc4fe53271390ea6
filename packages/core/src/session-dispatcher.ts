import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import { type Clock, systemClock } from './clock.js';
import { decodeMessage, isInitializeRequest, isRequest } from './codec.js';
import type { SessionInfo } from './contracts.js';
import type {
  CloseOptions,
  DispatcherStats,
  DispatchOptions,
  DispatchResult,
  Farewell,
  InboundMessage,
} from './dispatch-contract.js';
import { type DispatchCounts, emptyDispatchCounts } from './dispatch-counts.js';
import { logRejection, readAddress, refusedDestination, rejected } from './dispatch-rejections.js';
import { DispatcherSession, type SessionHolder } from './dispatcher-session.js';
import { Attribute } from './envelope.js';
import { type DestinationRefusedError, describeError } from './errors.js';
import {
  checkSessionClaim,
  type InboundProblem,
  malformedMessage,
  protocolVersionProblem,
} from './inbound-checks.js';
import {
  internalError,
  sessionBusyError,
  sessionNotFoundError,
  sessionTerminatedError,
  validationError,
} from './jsonrpc-errors.js';
import { type Logger, sessionLogId, silentLogger } from './logger.js';
import { cancelledRequestId } from './request-ids.js';
import { isSessionListeningNotification, isTerminateSessionNotification } from './session-control.js';
import type { SessionDispatcherOptions } from './session-dispatcher-options.js';
import { isValidSessionId, sessionIdFor } from './session-id.js';
import { SessionLifecycle } from './session-lifecycle.js';
import { SessionOutbox } from './session-outbox.js';
import { SessionRequests } from './session-requests.js';
import { settleWithin } from './settle-within.js';

export type { SessionDispatcherOptions };

/**
 * The transport-independent half of every server session manager: decode, validate, route by session
 * id, open a session (and an MCP server from the factory) per `initialize`, answer what cannot be routed
 * with the errors of PROTOCOL.md §5, skip redelivered requests, and tell the caller when a message's
 * effect is durable. Transports add only their I/O: reading the channel and `send`.
 */
export class SessionDispatcher<A> implements SessionHolder<A> {
  readonly #options: SessionDispatcherOptions<A>;
  readonly #lifecycle: SessionLifecycle<DispatcherSession<A>>;
  readonly #requests: SessionRequests;
  readonly #logger: Logger;
  readonly #supported: readonly string[];
  readonly #clock: Clock;
  readonly #outbox: SessionOutbox<A>;
  #closing = false;
  readonly #counts: DispatchCounts = emptyDispatchCounts();

  constructor(options: SessionDispatcherOptions<A>) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#supported = options.supportedProtocolVersions ?? SUPPORTED_PROTOCOL_VERSIONS;
    this.#clock = options.clock ?? systemClock;
    this.#requests = new SessionRequests({
      maxInFlightPerSession: options.maxInFlightPerSession,
      dedupe: options.dedupe,
      clock: this.#clock,
      logger: this.#logger,
    });
    this.#outbox = new SessionOutbox<A>({
      send: options.send,
      missingAddressGraceMs: options.missingAddressGraceMs,
      clock: this.#clock,
      logger: this.#logger,
      sessionOf: (sessionId) => this.#lifecycle.get(sessionId),
      touch: (sessionId) => this.#lifecycle.touch(sessionId),
      finish: (session, requestId, settlement) => this.#requests.finish(session, requestId, settlement),
      clientGone: (session, cause) => this.#endForGoneClient(session, cause),
    });
    this.#lifecycle = new SessionLifecycle<DispatcherSession<A>>({
      maxSessions: options.maxSessions,
      idleTimeoutMs: options.sessionIdleTimeoutMs,
      clock: options.clock,
      logger: this.#logger,
      isBusy: (session) => session.pending.size > 0,
      release: (session) => this.#requests.endAll(session),
      onsessioninitialized: options.onsessioninitialized,
      onsessionclosed: options.onsessionclosed,
    });
  }

  get stats(): DispatcherStats {
    return { ...this.#counts, ...this.#lifecycle.stats };
  }

  /** The live sessions, as a snapshot. */
  get sessions(): ReadonlyMap<string, SessionInfo> {
    return this.#lifecycle.sessions;
  }

  /** The number of requests handed to servers and not answered yet. */
  get inFlight(): number {
    return this.#lifecycle.live().reduce((count, session) => count + session.pending.size, 0);
  }

  /** The live sessions running a request that started at least `ms` ago. */
  sessionsBusyFor(ms: number): string[] {
    const before = this.#clock.now() - ms;
    return this.#lifecycle
      .live()
      .filter((session) => session.pending.startedBy(before))
      .map((session) => session.sessionId);
  }

  /** The address a live or recently ended session answers to. */
  addressOf(sessionId: string): A | undefined {
    const status = this.#lifecycle.status(sessionId);
    if (status.state === 'live') return status.value.address;
    if (status.state === 'terminated') return status.tombstone.address as A | undefined;
    return undefined;
  }

  /**
   * Routes one inbound message. Resolves once the message is handed to its session (or rejected); the
   * `settled` promise of an accepted message resolves once its effect is durable.
   */
  async dispatch(inbound: InboundMessage, options: DispatchOptions = {}): Promise<DispatchResult<A>> {
    const attributes = inbound.attributes;
    const claimed = attributes[Attribute.SessionId];
    const decoded = decodeMessage(inbound.body);
    if (!decoded.ok) return this.#reject(malformedMessage(decoded.error), claimed);
    const message = decoded.message;
    const requestId = isRequest(message) ? message.id : undefined;
    const wrongVersion = protocolVersionProblem(attributes, this.#supported, requestId);
    if (wrongVersion) return this.#reject(wrongVersion, claimed);
    if (this.#closing) {
      const error = internalError('server is shutting down', requestId);
      return this.#reject({ reason: 'closing', error, what: 'closing' }, claimed);
    }

    if (claimed !== undefined && isValidSessionId(claimed)) {
      const status = this.#lifecycle.status(claimed);
      // An initialize naming a live session goes into it, as Python asyncmcp servers do.
      if (status.state === 'live') return this.#handOver(status.value, message, false, attributes);
      if (status.state === 'terminated' && !isInitializeRequest(message)) {
        return this.#reject(terminated(claimed, requestId), claimed);
      }
    }
    if (isInitializeRequest(message)) return this.#open(message, attributes);
    const claim = checkSessionClaim(claimed, requestId);
    if ('problem' in claim) return this.#reject(claim.problem);
    // A request names where to answer (our clients put the address on every request), so even a
    // session this dispatcher never held can be told it is gone, unless the caller hands it on instead.
    const read =
      options.answerUnknownSession && isRequest(message)
        ? readAddress(this.#options.addressOf, message, attributes)
        : { address: undefined };
    if ('refused' in read) return this.#refuse(read.refused, claim.sessionId, requestId);
    const error = sessionNotFoundError(claim.sessionId, requestId);
    const unknown: InboundProblem = { reason: 'unknown-session', error, what: 'unknown session' };
    return this.#reject(unknown, claim.sessionId, read.address);
  }

  /** Sends a message of the server's own to a live session's client; false when it could not. */
  async notify(sessionId: string, message: JSONRPCMessage): Promise<boolean> {
    const session = this.#lifecycle.get(sessionId);
    if (!session || session.closed) return false;
    return this.#trySend(message, sessionId, session.address);
  }

  /** Ends a session; later messages for it get `Session has been terminated`. */
  async terminate(sessionId: string): Promise<boolean> {
    const session = this.#lifecycle.get(sessionId);
    if (!session) return false;
    await this.#lifecycle.end(session);
    return true;
  }

  /**
   * Stops accepting messages, waits up to `timeoutMs` for running requests to be answered, then closes
   * every session.
   */
  async close({ timeoutMs = 10_000, farewell }: CloseOptions = {}): Promise<void> {
    this.#closing = true;
    const running = this.#lifecycle
      .live()
      .flatMap((session) => [...session.pending.values()].map((pending) => pending.settled));
    // Real time even under a test clock: a test that stops a dispatcher does not move its clock.
    await settleWithin(running, timeoutMs, systemClock);
    await this.#lifecycle.endAll((session) => this.#endWithFarewell(session, farewell));
  }

  /**
   * Ends every session that is running no request, after sending `farewell` to it (a stopping worker
   * says so at once to the sessions that are not waiting on it).
   */
  async endIdleSessions(farewell?: Farewell): Promise<void> {
    const idle = this.#lifecycle.live().filter((session) => session.pending.size === 0);
    await Promise.allSettled(idle.map((session) => this.#endWithFarewell(session, farewell)));
  }

  async #endWithFarewell(session: DispatcherSession<A>, farewell: Farewell | undefined): Promise<void> {
    const message = farewell?.(session.sessionId);
    if (message && !session.closed) await this.#trySend(message, session.sessionId, session.address);
    await this.#lifecycle.end(session);
  }

  async #open(
    message: JSONRPCRequest,
    attributes: Readonly<Record<string, string>>,
  ): Promise<DispatchResult<A>> {
    const read = readAddress(this.#options.addressOf, message, attributes);
    if ('refused' in read) return this.#refuse(read.refused, attributes[Attribute.SessionId], message.id);
    const address = read.address;
    if (address === undefined) {
      const error = validationError(`initialize is missing ${this.#options.addressDescription}`, message.id);
      return this.#reject({ reason: 'missing-address', error, what: 'initialize without a reply address' });
    }
    const proposed = attributes[Attribute.SessionId];
    const sessionId = sessionIdFor(proposed, this.#options.sessionIdFormat);
    const full = this.#lifecycle.noRoomError(message.id);
    if (full) {
      await this.#trySend(full, sessionId, address);
      return rejected(this.#counts, 'session-limit', full, true, sessionId);
    }
    const session = new DispatcherSession<A>(this, sessionId, address, attributes[Attribute.ClientId]);
    this.#lifecycle.add(session);
    session.ready = this.#lifecycle.connectServer(session, this.#options.createServer);
    try {
      await session.ready;
    } catch (cause) {
      const error = this.#lifecycle.failedToStart(session, cause, message.id);
      await this.#trySend(error, sessionId, address);
      return rejected(this.#counts, 'server-failed', error, true, sessionId);
    }
    // Ended while its server started (terminated, say): `#handOver` answers that it is gone.
    if (!session.closed) this.#lifecycle.opened(session, { clientId: session.clientId });
    return this.#handOver(session, message, true, attributes);
  }

  async #handOver(
    session: DispatcherSession<A>,
    message: JSONRPCMessage,
    created: boolean,
    attributes: Readonly<Record<string, string>>,
  ): Promise<DispatchResult<A>> {
    try {
      await session.ready;
    } catch {
      // The session's server failed to start; `#open` reports why, and `closed` is set.
    }
    if (session.closed) {
      const requestId = isRequest(message) ? message.id : undefined;
      return this.#reject(terminated(session.sessionId, requestId), session.sessionId);
    }
    this.#lifecycle.touch(session.sessionId);
    const base = {
      status: 'accepted' as const,
      sessionId: session.sessionId,
      created,
      address: session.address,
    };
    if (isTerminateSessionNotification(message)) {
      this.#counts.accepted++;
      this.#logger.info({ sessionId: sessionLogId(session.sessionId) }, 'session terminated by its client');
      return { ...base, settled: this.#lifecycle.end(session).then(() => 'delivered' as const) };
    }
    if (isSessionListeningNotification(message)) return this.#listen(session, message, attributes, base);
    if (!isRequest(message)) {
      this.#counts.accepted++;
      session.onmessage?.(message);
      // The server answers a cancelled request with nothing, so the request's message and its place in
      // flight would otherwise wait for an answer that never comes, until the session ends.
      const cancelled = cancelledRequestId(message);
      if (cancelled !== undefined) this.#requests.cancel(session, cancelled);
      return { ...base, settled: Promise.resolve('delivered') };
    }
    // Each request is answered where it names (PROTOCOL.md §7b): with a fleet of gateways in front, the
    // instance that sent it holds the caller's stream, whichever instance opened the session.
    const own = created
      ? { address: session.address }
      : readAddress(this.#options.addressOf, message, attributes);
    if ('refused' in own) return this.#refuse(own.refused, session.sessionId, message.id);
    const address = own.address ?? session.address;
    if (own.address !== undefined) session.lastRequestAddress = own.address;
    const admission = this.#requests.begin(session, message.id, address);
    if (admission.kind === 'busy') {
      const error = sessionBusyError(admission.limit, message.id);
      const what = 'too many requests running in the session';
      return this.#reject({ reason: 'session-busy', error, what }, session.sessionId);
    }
    if (admission.kind === 'duplicate') {
      this.#counts.duplicates++;
      return { ...base, settled: admission.settled };
    }
    const settled = admission.settled;
    this.#counts.accepted++;
    session.onmessage?.(message);
    return { ...base, settled };
  }

  /** Called by a session's transport when its server sends a message. */
  sendFromSession(
    session: DispatcherSession<A>,
    message: JSONRPCMessage,
    options?: TransportSendOptions,
  ): Promise<void> {
    return this.#outbox.fromSession(session, message, options);
  }

  #trySend(message: JSONRPCMessage, sessionId: string, address: A): Promise<boolean> {
    return this.#outbox.trySend(message, sessionId, address);
  }

  /** Points a session's unsolicited messages at the address a `notifications/asyncmcp/listening` names. */
  #listen(
    session: DispatcherSession<A>,
    message: JSONRPCMessage,
    attributes: Readonly<Record<string, string>>,
    base: Omit<Extract<DispatchResult<A>, { status: 'accepted' }>, 'settled'>,
  ): DispatchResult<A> {
    // Read as `initialize` and requests are read: the address is in `_meta`, under the same name.
    const read = readAddress(this.#options.addressOf, { ...message, id: 0 } as JSONRPCRequest, attributes);
    if ('refused' in read) return this.#refuse(read.refused, session.sessionId, undefined);
    this.#counts.accepted++;
    if (read.address !== undefined) session.address = read.address;
    return { ...base, address: session.address, settled: Promise.resolve('delivered') };
  }

  #endForGoneClient(session: DispatcherSession<A>, cause: unknown): void {
    if (session.closed) return;
    this.#counts.clientsGone++;
    this.#logger.warn(
      { sessionId: sessionLogId(session.sessionId), err: describeError(cause) },
      "the session's client address no longer exists; ending the session",
    );
    void this.#lifecycle.end(session);
  }

  /** Called by a session's transport when its server closes it. */
  endFromSession(session: DispatcherSession<A>): Promise<void> {
    return this.#lifecycle.end(session);
  }

  async #reject(
    { reason, error, what }: InboundProblem,
    sessionId?: string,
    fallbackAddress?: A,
  ): Promise<DispatchResult<A>> {
    const address = (sessionId === undefined ? undefined : this.addressOf(sessionId)) ?? fallbackAddress;
    const replied = address !== undefined && (await this.#trySend(error, sessionId as string, address));
    logRejection(this.#logger, what, { reason, error, sessionId, replied });
    return rejected(this.#counts, reason, error, replied, sessionId);
  }

  /** A message naming a destination we will not send to: logged, answered nowhere. */
  #refuse(
    refused: DestinationRefusedError,
    sessionId: string | undefined,
    requestId: RequestId | undefined,
  ): DispatchResult<A> {
    return refusedDestination(this.#logger, refused, sessionId, requestId, (error) =>
      rejected(this.#counts, 'refused-destination', error, false, sessionId),
    );
  }
}

function terminated(sessionId: string, requestId: RequestId | undefined): InboundProblem {
  return {
    reason: 'terminated-session',
    error: sessionTerminatedError(sessionId, requestId),
    what: 'session terminated',
  };
}
