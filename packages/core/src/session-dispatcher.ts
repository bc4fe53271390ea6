import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import { type Clock, systemClock } from './clock.js';
import { decodeMessage, isInitializeRequest, isRequest } from './codec.js';
import type { SessionInfo } from './contracts.js';
import { DedupeWindow, dedupeKey } from './dedupe-window.js';
import { SESSION_DEFAULTS } from './defaults.js';
import type {
  CloseOptions,
  DispatcherStats,
  DispatchOptions,
  DispatchResult,
  Farewell,
  InboundMessage,
  RejectReason,
  Settlement,
} from './dispatch-contract.js';
import { logRejection, readAddress, refusedDestination, rejected } from './dispatch-rejections.js';
import { DispatcherSession, type SessionHolder } from './dispatcher-session.js';
import { Attribute } from './envelope.js';
import { type DestinationRefusedError, describeError } from './errors.js';
import {
  internalError,
  invalidSessionIdFormatError,
  missingSessionIdError,
  sessionBusyError,
  sessionNotFoundError,
  sessionTerminatedError,
  unsupportedProtocolVersionError,
  validationError,
} from './jsonrpc-errors.js';
import { type Logger, sessionLogId, silentLogger } from './logger.js';
import { cancelledRequestId } from './request-ids.js';
import { isSessionListeningNotification, isTerminateSessionNotification } from './session-control.js';
import type { SessionDispatcherOptions } from './session-dispatcher-options.js';
import { isValidSessionId, sessionIdFor } from './session-id.js';
import { SessionOutbox } from './session-outbox.js';
import { SessionRegistry, snapshotSessions } from './session-registry.js';

export type { SessionDispatcherOptions };

/**
 * The transport-independent half of every server session manager: decode, validate, route by session
 * id, open a session (and an MCP server from the factory) per `initialize`, answer what cannot be routed
 * with the errors of PROTOCOL.md §5, skip redelivered requests, and tell the caller when a message's
 * effect is durable. Transports add only their I/O: reading the channel and `send`.
 */
export class SessionDispatcher<A> implements SessionHolder<A> {
  readonly #options: SessionDispatcherOptions<A>;
  readonly #registry: SessionRegistry<DispatcherSession<A>>;
  readonly #dedupe: DedupeWindow;
  readonly #logger: Logger;
  readonly #supported: readonly string[];
  readonly #clock: Clock;
  readonly #outbox: SessionOutbox<A>;
  #closing = false;
  readonly stats: DispatcherStats = {
    accepted: 0,
    rejected: 0,
    duplicates: 0,
    sessionsOpened: 0,
    sessionsClosed: 0,
    clientsGone: 0,
  };

  constructor(options: SessionDispatcherOptions<A>) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#supported = options.supportedProtocolVersions ?? SUPPORTED_PROTOCOL_VERSIONS;
    this.#dedupe = new DedupeWindow(options.dedupe);
    this.#clock = options.clock ?? systemClock;
    this.#outbox = new SessionOutbox<A>({
      send: options.send,
      missingAddressGraceMs: options.missingAddressGraceMs,
      clock: this.#clock,
      logger: this.#logger,
      sessionOf: (sessionId) => this.#registry.get(sessionId),
      touch: (sessionId) => this.#registry.touch(sessionId),
      finish: (session, requestId, settlement) => this.#finish(session, requestId, settlement),
      clientGone: (session, cause) => this.#endForGoneClient(session, cause),
    });
    this.#registry = new SessionRegistry<DispatcherSession<A>>({
      maxSessions: options.maxSessions,
      idleTimeoutMs: options.sessionIdleTimeoutMs,
      clock: options.clock,
      isBusy: (session) => session.pending.size > 0,
      onEvict: (sessionId, session) => {
        this.#logger.info({ sessionId: sessionLogId(sessionId) }, 'session evicted after being idle');
        void this.#end(session);
      },
    });
  }

  /** The live sessions, as a snapshot. */
  get sessions(): ReadonlyMap<string, SessionInfo> {
    return snapshotSessions(this.#registry);
  }

  /** The number of requests handed to servers and not answered yet. */
  get inFlight(): number {
    let count = 0;
    for (const [, session] of this.#registry.entries()) count += session.pending.size;
    return count;
  }

  /** The live sessions running a request that started at least `ms` ago. */
  sessionsBusyFor(ms: number): string[] {
    const before = this.#clock.now() - ms;
    const busy: string[] = [];
    for (const [sessionId, session] of this.#registry.entries()) {
      if (session.pending.startedBy(before)) busy.push(sessionId);
    }
    return busy;
  }

  /** The address a live or recently ended session answers to. */
  addressOf(sessionId: string): A | undefined {
    const status = this.#registry.status(sessionId);
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
    if (!decoded.ok) {
      const reason = decoded.error.error.code === -32700 ? 'parse' : 'validation';
      return this.#reject(reason, decoded.error, claimed, 'malformed message');
    }
    const message = decoded.message;
    const requestId = isRequest(message) ? message.id : undefined;

    const version = attributes[Attribute.ProtocolVersion];
    if (version !== undefined && !this.#supported.includes(version)) {
      return this.#reject(
        'protocol-version',
        unsupportedProtocolVersionError(version, this.#supported, requestId),
        claimed,
        'unsupported protocol version',
      );
    }
    if (this.#closing) {
      return this.#reject('closing', internalError('server is shutting down', requestId), claimed, 'closing');
    }

    if (claimed !== undefined && isValidSessionId(claimed)) {
      const status = this.#registry.status(claimed);
      // An initialize naming a live session goes into it, as Python asyncmcp servers do.
      if (status.state === 'live') return this.#handOver(status.value, message, false, attributes);
      if (status.state === 'terminated' && !isInitializeRequest(message)) {
        return this.#reject(
          'terminated-session',
          sessionTerminatedError(claimed, requestId),
          claimed,
          'session terminated',
        );
      }
    }
    if (isInitializeRequest(message)) return this.#open(message, attributes);
    if (claimed === undefined || claimed === '') {
      return this.#reject('missing-session', missingSessionIdError(requestId), undefined, 'no session id');
    }
    if (!isValidSessionId(claimed)) {
      return this.#reject(
        'invalid-session',
        invalidSessionIdFormatError(claimed, requestId),
        undefined,
        'bad session id',
      );
    }
    // A request names where to answer (our clients put the address on every request), so even a
    // session this dispatcher never held can be told it is gone, unless the caller hands it on instead.
    const read =
      options.answerUnknownSession && isRequest(message)
        ? readAddress(this.#options.addressOf, message, attributes)
        : { address: undefined };
    if ('refused' in read) return this.#refuse(read.refused, claimed, requestId);
    const fallback = read.address;
    return this.#reject(
      'unknown-session',
      sessionNotFoundError(claimed, requestId),
      claimed,
      'unknown session',
      fallback,
    );
  }

  /** Sends a message of the server's own to a live session's client; false when it could not. */
  async notify(sessionId: string, message: JSONRPCMessage): Promise<boolean> {
    const session = this.#registry.get(sessionId);
    if (!session || session.closed) return false;
    return this.#trySend(message, sessionId, session.address);
  }

  /** Ends a session; later messages for it get `Session has been terminated`. */
  async terminate(sessionId: string): Promise<boolean> {
    const session = this.#registry.get(sessionId);
    if (!session) return false;
    await this.#end(session);
    return true;
  }

  /**
   * Stops accepting messages, waits up to `timeoutMs` for running requests to be answered, then closes
   * every session.
   */
  async close({ timeoutMs = 10_000, farewell }: CloseOptions = {}): Promise<void> {
    this.#closing = true;
    const running: Promise<unknown>[] = [];
    for (const [, session] of this.#registry.entries()) {
      for (const pending of session.pending.values()) running.push(pending.settled);
    }
    if (running.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.allSettled(running), deadline]);
      clearTimeout(timer);
    }
    await Promise.allSettled(
      [...this.#registry.entries()].map(([, session]) => this.#endWithFarewell(session, farewell)),
    );
    this.#registry.dispose();
  }

  /**
   * Ends every session that is running no request, after sending `farewell` to it (a stopping worker
   * says so at once to the sessions that are not waiting on it).
   */
  async endIdleSessions(farewell?: Farewell): Promise<void> {
    const idle = [...this.#registry.entries()].filter(([, session]) => session.pending.size === 0);
    await Promise.allSettled(idle.map(([, session]) => this.#endWithFarewell(session, farewell)));
  }

  async #endWithFarewell(session: DispatcherSession<A>, farewell: Farewell | undefined): Promise<void> {
    const message = farewell?.(session.sessionId);
    if (message && !session.closed) await this.#trySend(message, session.sessionId, session.address);
    await this.#end(session);
  }

  async #open(
    message: JSONRPCRequest,
    attributes: Readonly<Record<string, string>>,
  ): Promise<DispatchResult<A>> {
    const read = readAddress(this.#options.addressOf, message, attributes);
    if ('refused' in read) return this.#refuse(read.refused, attributes[Attribute.SessionId], message.id);
    const address = read.address;
    if (address === undefined) {
      return this.#reject(
        'missing-address',
        validationError(`initialize is missing ${this.#options.addressDescription}`, message.id),
        undefined,
        'initialize without a reply address',
      );
    }
    const proposed = attributes[Attribute.SessionId];
    const sessionId = sessionIdFor(proposed, this.#options.sessionIdFormat);
    if (!this.#registry.hasRoom()) {
      const error = internalError(`too many sessions (limit ${this.#registry.maxSessions})`, message.id);
      await this.#trySend(error, sessionId, address);
      return rejected(this.stats, 'session-limit', error, true, sessionId);
    }

    const session = new DispatcherSession<A>(this, sessionId, address, attributes[Attribute.ClientId]);
    this.#registry.add(sessionId, session);
    session.ready = (async () => {
      const server = await this.#options.createServer();
      session.server = server;
      await server.connect(session);
    })();
    try {
      await session.ready;
    } catch (cause) {
      session.closed = true;
      this.#registry.remove(sessionId, address);
      this.#logger.error(
        { sessionId: sessionLogId(sessionId), err: describeError(cause) },
        'could not create the MCP server for a session',
      );
      const error = internalError(
        `could not start a server for the session: ${describeError(cause)}`,
        message.id,
      );
      await this.#trySend(error, sessionId, address);
      return rejected(this.stats, 'server-failed', error, true, sessionId);
    }
    this.stats.sessionsOpened++;
    this.#logger.info({ sessionId: sessionLogId(sessionId), clientId: session.clientId }, 'session opened');
    this.#options.onsessioninitialized?.(sessionId);
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
      return this.#reject(
        'terminated-session',
        sessionTerminatedError(session.sessionId, requestId),
        session.sessionId,
        'session terminated',
      );
    }
    this.#registry.touch(session.sessionId);
    const base = {
      status: 'accepted' as const,
      sessionId: session.sessionId,
      created,
      address: session.address,
    };
    if (isTerminateSessionNotification(message)) {
      this.stats.accepted++;
      this.#logger.info({ sessionId: sessionLogId(session.sessionId) }, 'session terminated by its client');
      return { ...base, settled: this.#end(session).then(() => 'delivered' as const) };
    }
    if (isSessionListeningNotification(message)) return this.#listen(session, message, attributes, base);
    if (!isRequest(message)) {
      this.stats.accepted++;
      session.onmessage?.(message);
      // The server answers a cancelled request with nothing, so the request's message and its place in
      // flight would otherwise wait for an answer that never comes, until the session ends.
      const cancelled = cancelledRequestId(message);
      if (cancelled !== undefined && !this.#finish(session, cancelled, 'cancelled')) {
        // Not running here yet: the cancellation overtook its request (or the request waits for a slot).
        this.#dedupe.forestall(dedupeKey(session.sessionId, cancelled));
      }
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
    const key = dedupeKey(session.sessionId, message.id);
    const limit = this.#options.maxInFlightPerSession ?? SESSION_DEFAULTS.maxInFlightPerSession;
    if (session.pending.size >= limit && !session.pending.has(message.id)) {
      return this.#reject(
        'session-busy',
        sessionBusyError(limit, message.id),
        session.sessionId,
        'too many requests running in the session',
      );
    }
    const state = this.#dedupe.begin(key);
    if (state !== 'new') {
      this.stats.duplicates++;
      this.#logger.info(
        { sessionId: sessionLogId(session.sessionId), requestId: message.id, state },
        'redelivered request skipped',
      );
      const pending = session.pending.get(message.id);
      return {
        ...base,
        settled: pending ? pending.settled.then(() => 'duplicate' as const) : Promise.resolve('duplicate'),
      };
    }
    const settled = session.pending.begin(message.id, {
      dedupeKey: key,
      startedAt: this.#clock.now(),
      address,
    });
    this.stats.accepted++;
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
    this.stats.accepted++;
    if (read.address !== undefined) session.address = read.address;
    return { ...base, address: session.address, settled: Promise.resolve('delivered') };
  }

  /** Ends a pending request; false when it was not pending. */
  #finish(session: DispatcherSession<A>, requestId: RequestId, settlement: Settlement): boolean {
    const pending = session.pending.take(requestId);
    if (!pending) return false;
    if (settlement === 'failed') this.#dedupe.release(pending.dedupeKey);
    else this.#dedupe.complete(pending.dedupeKey);
    pending.settle(settlement);
    return true;
  }

  /** Ends a session from any side: the manager, eviction, or its own server closing. */
  async #end(session: DispatcherSession<A>): Promise<void> {
    if (session.closed) return;
    session.closed = true;
    this.#registry.remove(session.sessionId, session.address);
    for (const pending of session.pending.takeAll()) {
      this.#dedupe.complete(pending.dedupeKey);
      pending.settle('session-closed');
    }
    this.stats.sessionsClosed++;
    this.#logger.info({ sessionId: sessionLogId(session.sessionId) }, 'session closed');
    try {
      await session.server?.close();
    } catch (cause) {
      this.#logger.warn(
        { sessionId: sessionLogId(session.sessionId), err: describeError(cause) },
        'server close failed',
      );
    }
    session.fireClose();
    this.#options.onsessionclosed?.(session.sessionId);
  }

  #endForGoneClient(session: DispatcherSession<A>, cause: unknown): void {
    if (session.closed) return;
    this.stats.clientsGone++;
    this.#logger.warn(
      { sessionId: sessionLogId(session.sessionId), err: describeError(cause) },
      "the session's client address no longer exists; ending the session",
    );
    void this.#end(session);
  }

  /** Called by a session's transport when its server closes it. */
  endFromSession(session: DispatcherSession<A>): Promise<void> {
    return this.#end(session);
  }

  async #reject(
    reason: RejectReason,
    error: JSONRPCErrorResponse,
    sessionId: string | undefined,
    what: string,
    fallbackAddress?: A,
  ): Promise<DispatchResult<A>> {
    const address = (sessionId === undefined ? undefined : this.addressOf(sessionId)) ?? fallbackAddress;
    const replied = address !== undefined && (await this.#trySend(error, sessionId as string, address));
    logRejection(this.#logger, what, { reason, error, sessionId, replied });
    return rejected(this.stats, reason, error, replied, sessionId);
  }

  /** A message naming a destination we will not send to: logged, answered nowhere. */
  #refuse(
    refused: DestinationRefusedError,
    sessionId: string | undefined,
    requestId: RequestId | undefined,
  ): DispatchResult<A> {
    return refusedDestination(this.#logger, refused, sessionId, requestId, (error) =>
      rejected(this.stats, 'refused-destination', error, false, sessionId),
    );
  }
}
