import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import { type Clock, systemClock } from './clock.js';
import { decodeMessage, isAnswer, isInitializeRequest, isRequest, protocolVersionOf } from './codec.js';
import type { ConnectableServer, ServerFactory, SessionInfo } from './contracts.js';
import { DedupeWindow, type DedupeWindowOptions, dedupeKey } from './dedupe-window.js';
import { SESSION_DEFAULTS } from './defaults.js';
import { Attribute } from './envelope.js';
import {
  AsyncMcpError,
  AsyncMcpErrorCode,
  DestinationRefusedError,
  describeError,
  isDestinationGone,
  TransportStateError,
} from './errors.js';
import {
  internalError,
  invalidSessionIdFormatError,
  JsonRpcErrorCode,
  jsonRpcError,
  missingSessionIdError,
  sessionBusyError,
  sessionNotFoundError,
  sessionTerminatedError,
  unsupportedProtocolVersionError,
  validationError,
} from './jsonrpc-errors.js';
import { type Logger, sessionLogId, silentLogger } from './logger.js';
import { ReachedAddresses, retryWhileMissing } from './missing-address-grace.js';
import { cancelledRequestId, requestIdKey } from './request-ids.js';
import { isSessionListeningNotification, isTerminateSessionNotification } from './session-control.js';
import { generateSessionId, isValidSessionId, type SessionIdFormat } from './session-id.js';
import { SessionRegistry, snapshotSessions } from './session-registry.js';

/** One message as it arrived on a transport's inbound channel. */
export interface InboundMessage {
  body: string | Uint8Array;
  /** Protocol attributes or headers, flattened to name → value (`SessionId`, `ClientId`, …). */
  attributes: Readonly<Record<string, string>>;
}

export type RejectReason =
  | 'parse'
  | 'validation'
  | 'protocol-version'
  | 'missing-session'
  | 'invalid-session'
  | 'unknown-session'
  | 'terminated-session'
  | 'missing-address'
  | 'refused-destination'
  | 'session-limit'
  /** The session already runs `maxInFlightPerSession` requests. */
  | 'session-busy'
  | 'server-failed'
  | 'closing';

/** How a message ended once its effect is durable (its answer sent, for a request). */
/**
 * How an inbound message ended. `cancelled`: the client cancelled the request (`notifications/cancelled`);
 * MCP servers send no answer to a cancelled request, so it ends there, and its message is done with.
 */
export type Settlement = 'delivered' | 'answered' | 'duplicate' | 'session-closed' | 'failed' | 'cancelled';

export type DispatchResult<A> =
  | {
      status: 'accepted';
      sessionId: string;
      /** Whether this message opened the session. */
      created: boolean;
      address: A;
      /** Resolves when the message's effect is durable; only then may a queue message be deleted. */
      settled: Promise<Settlement>;
    }
  | {
      status: 'rejected';
      reason: RejectReason;
      /** The JSON-RPC error for the sender; `replied` says whether it was already sent to them. */
      error: JSONRPCErrorResponse;
      replied: boolean;
      sessionId: string | undefined;
    };

/** Where a session's message goes, and the client request it belongs to, when the server said. */
export interface SendTarget<A> {
  sessionId: string;
  address: A;
  relatedRequestId?: RequestId | undefined;
}

export interface SessionDispatcherOptions<A> {
  createServer: ServerFactory;
  /**
   * Reads where a new session's client is answered from its `initialize` (e.g. `_meta.responseQueueUrl`).
   * Throws a `DestinationRefusedError` for an address the server will not send to: the message is then
   * rejected (`refused-destination`) and nothing is sent anywhere.
   */
  addressOf: (initialize: JSONRPCRequest, attributes: Readonly<Record<string, string>>) => A | undefined;
  /** What `addressOf` looks for, for the error when it is missing, e.g. `_meta.responseQueueUrl`. */
  addressDescription: string;
  /** Sends one message to a session's client. Throw a `MessageTooLargeError` for an oversize message. */
  send: (message: JSONRPCMessage, target: SendTarget<A>) => Promise<void>;
  /** @default 'hex' */
  sessionIdFormat?: SessionIdFormat;
  /** Most live sessions; `Infinity` lifts the limit. @default SESSION_DEFAULTS.maxSessions (1000) */
  maxSessions?: number;
  /**
   * Sessions with no traffic and no running request for this long are closed; `Infinity` never.
   * @default SESSION_DEFAULTS.sessionIdleTimeoutMs (1800000, 30 minutes)
   */
  sessionIdleTimeoutMs?: number;
  /**
   * Most requests one session may have running at once; a request beyond it is answered at once with a
   * JSON-RPC error (and its message is done with), so one session cannot take every slot of the worker.
   * @default SESSION_DEFAULTS.maxInFlightPerSession (32)
   */
  maxInFlightPerSession?: number;
  /**
   * How long a send to an address the session reached before, now missing, is tried again before the
   * session's client is taken as gone (the queue service lost the queue; its owner makes it again).
   * @default SESSION_DEFAULTS.missingAddressGraceMs (5000)
   */
  missingAddressGraceMs?: number;
  /** Time source of idle eviction and of the grace above; tests pass a `ManualClock`. @default systemClock */
  clock?: Clock;
  /** @default the versions the installed MCP SDK supports */
  supportedProtocolVersions?: readonly string[];
  dedupe?: DedupeWindowOptions;
  logger?: Logger;
  onsessioninitialized?: (sessionId: string) => void;
  onsessionclosed?: (sessionId: string) => void;
}

export interface DispatchOptions {
  /**
   * Answer a request for a session this dispatcher does not hold with `Session not found`, at the address
   * the request itself names. Off for a message the caller may hand to another reader of the queue.
   * @default false
   */
  answerUnknownSession?: boolean;
}

/** The message a session is sent before a stopping server ends it; undefined sends none. */
export type Farewell = (sessionId: string) => JSONRPCMessage | undefined;

export interface CloseOptions {
  timeoutMs?: number;
  farewell?: Farewell;
}

export interface DispatcherStats {
  accepted: number;
  rejected: number;
  duplicates: number;
  sessionsOpened: number;
  sessionsClosed: number;
  /** Sessions ended because their client's address (queue, topic) no longer exists. */
  clientsGone: number;
}

/**
 * The transport-independent half of every server session manager: decode, validate, route by session
 * id, open a session (and an MCP server from the factory) per `initialize`, answer what cannot be routed
 * with the errors of PROTOCOL.md §5, skip redelivered requests, and tell the caller when a message's
 * effect is durable. Transports add only their I/O: reading the channel and `send`.
 */
export class SessionDispatcher<A> {
  readonly #options: SessionDispatcherOptions<A>;
  readonly #registry: SessionRegistry<DispatcherSession<A>>;
  readonly #dedupe: DedupeWindow;
  readonly #logger: Logger;
  readonly #supported: readonly string[];
  readonly #clock: Clock;
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
      for (const pending of session.pending.values()) {
        if (pending.startedAt <= before) {
          busy.push(sessionId);
          break;
        }
      }
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
    const sessionId =
      proposed !== undefined && isValidSessionId(proposed)
        ? proposed
        : generateSessionId(this.#options.sessionIdFormat ?? 'hex');
    if (!this.#registry.hasRoom()) {
      const error = internalError(`too many sessions (limit ${this.#registry.maxSessions})`, message.id);
      await this.#trySend(error, sessionId, address);
      return this.#rejected('session-limit', error, true, sessionId);
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
      return this.#rejected('server-failed', error, true, sessionId);
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
    if (session.pending.size >= limit && !session.pending.has(requestIdKey(message.id))) {
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
      const pending = session.pending.get(requestIdKey(message.id));
      return {
        ...base,
        settled: pending ? pending.settled.then(() => 'duplicate' as const) : Promise.resolve('duplicate'),
      };
    }
    let settle!: (settlement: Settlement) => void;
    const settled = new Promise<Settlement>((resolve) => {
      settle = resolve;
    });
    session.pending.set(requestIdKey(message.id), {
      settle,
      settled,
      dedupeKey: key,
      startedAt: this.#clock.now(),
      address,
    });
    this.stats.accepted++;
    session.onmessage?.(message);
    return { ...base, settled };
  }

  /** Called by a session's transport when its server sends a message. */
  async sendFromSession(
    session: DispatcherSession<A>,
    message: JSONRPCMessage,
    options?: TransportSendOptions,
  ): Promise<void> {
    if (session.closed) throw new TransportStateError('closed', 'session');
    this.#registry.touch(session.sessionId);
    const version = protocolVersionOf(message);
    if (version !== undefined) session.protocolVersion = version;
    const answeredId = isAnswer(message) ? message.id : undefined;
    const pending = answeredId === undefined ? undefined : session.pending.get(requestIdKey(answeredId));
    const related =
      options?.relatedRequestId === undefined
        ? undefined
        : session.pending.get(requestIdKey(options.relatedRequestId));
    const target: SendTarget<A> = {
      sessionId: session.sessionId,
      // An answer, and what the server sends while working on a request, go where that request asked.
      address: (pending ?? related)?.address ?? session.address,
      relatedRequestId: options?.relatedRequestId,
    };
    try {
      await this.#sendTo(session, message, target);
    } catch (cause) {
      if (isDestinationGone(cause)) {
        if (this.#followAnotherAddress(session, target.address)) {
          if (pending) this.#finish(session, answeredId as RequestId, 'failed');
          throw cause;
        }
        // The client's queue or topic was deleted (its gateway stopped for good): nobody will read this
        // session again, so its server and child process end now rather than at the idle timeout.
        this.#endForGoneClient(session, cause);
        throw cause;
      }
      if (answeredId === undefined || !isUndeliverable(cause)) {
        if (pending) this.#finish(session, answeredId as RequestId, 'failed');
        throw cause;
      }
      // An answer the channel will never take (too large, refused contents) becomes an error the
      // requester can match: retrying would fail the same way, and dropping it would hang the caller.
      this.#logger.warn(
        { sessionId: sessionLogId(session.sessionId), requestId: answeredId, err: describeError(cause) },
        'answer cannot be delivered; sending an error instead',
      );
      try {
        await this.#options.send(internalError(describeError(cause), answeredId), target);
      } catch (again) {
        if (pending) this.#finish(session, answeredId, 'failed');
        throw again;
      }
    }
    if (pending) this.#finish(session, answeredId as RequestId, 'answered');
  }

  /** Sends to an address of the session; one it reached before gets time to be made again if missing. */
  async #sendTo(
    session: DispatcherSession<A>,
    message: JSONRPCMessage,
    target: SendTarget<A>,
  ): Promise<void> {
    const graceMs = session.reached.has(target.address)
      ? (this.#options.missingAddressGraceMs ?? SESSION_DEFAULTS.missingAddressGraceMs)
      : 0;
    await retryWhileMissing(() => this.#options.send(message, target), { graceMs, clock: this.#clock });
    session.reached.add(target.address);
  }

  /**
   * A session's `gone` address was deleted. False when that was the only address its client ever used:
   * the session is over. True when another one is still in use (another gateway instance of a fleet
   * sends its requests): the session goes on, its unsolicited messages now going there.
   */
  #followAnotherAddress(session: DispatcherSession<A>, gone: A): boolean {
    if (gone !== session.address) return true;
    const other = session.lastRequestAddress;
    if (other === undefined || other === gone) return false;
    session.address = other;
    this.#logger.info(
      { sessionId: sessionLogId(session.sessionId) },
      "the session's listening address no longer exists; its messages go where its last request came from",
    );
    return true;
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
    const pending = session.pending.get(requestIdKey(requestId));
    if (!pending) return false;
    session.pending.delete(requestIdKey(requestId));
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
    for (const [, pending] of session.pending) {
      this.#dedupe.complete(pending.dedupeKey);
      pending.settle('session-closed');
    }
    session.pending.clear();
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
    const fields = {
      reason,
      sessionId: sessionLogId(sessionId),
      code: error.error.code,
      detail: error.error.message,
      replied,
    };
    this.#logger.warn(fields, `message rejected: ${what}`);
    return this.#rejected(reason, error, replied, sessionId);
  }

  /** A message naming a destination we will not send to: logged, answered nowhere. */
  #refuse(
    refused: DestinationRefusedError,
    sessionId: string | undefined,
    requestId: RequestId | undefined,
  ): DispatchResult<A> {
    return refusedDestination(this.#logger, refused, sessionId, requestId, (error) =>
      this.#rejected('refused-destination', error, false, sessionId),
    );
  }

  #rejected(
    reason: RejectReason,
    error: JSONRPCErrorResponse,
    replied: boolean,
    sessionId: string | undefined,
  ): DispatchResult<A> {
    this.stats.rejected++;
    return { status: 'rejected', reason, error, replied, sessionId };
  }

  async #trySend(message: JSONRPCMessage, sessionId: string, address: A): Promise<boolean> {
    const session = this.#registry.get(sessionId);
    try {
      const target = { sessionId, address };
      await (session ? this.#sendTo(session, message, target) : this.#options.send(message, target));
      return true;
    } catch (cause) {
      if (session && isDestinationGone(cause)) {
        if (!this.#followAnotherAddress(session, address)) this.#endForGoneClient(session, cause);
        return false;
      }
      this.#logger.error(
        { sessionId: sessionLogId(sessionId), err: describeError(cause) },
        'could not send an error to the client',
      );
      return false;
    }
  }
}

interface PendingRequest<A> {
  settle: (settlement: Settlement) => void;
  settled: Promise<Settlement>;
  dedupeKey: string;
  startedAt: number;
  /** Where its answer goes: the address the request named, else the session's. */
  address: A;
}

/** The per-session `Transport` a session's MCP server is connected to. */
class DispatcherSession<A> implements Transport {
  readonly pending = new Map<string, PendingRequest<A>>();
  /** The address the session's last request named, when it named one. */
  lastRequestAddress: A | undefined;
  /** Addresses this session's messages reached: only those are given time when found missing. */
  readonly reached = new ReachedAddresses<A>();
  readonly createdAt = Date.now();
  protocolVersion: string | undefined;
  server: ConnectableServer | undefined;
  ready: Promise<void> = Promise.resolve();
  closed = false;
  #closeFired = false;
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  constructor(
    private readonly dispatcher: SessionDispatcher<A>,
    readonly sessionId: string,
    /** Where messages that belong to no request go: the `initialize` address, or a later `listening` one. */
    public address: A,
    readonly clientId: string | undefined,
  ) {}

  async start(): Promise<void> {}

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.dispatcher.sendFromSession(this, message, options);
  }

  async close(): Promise<void> {
    if (!this.closed) await this.dispatcher.endFromSession(this);
    this.fireClose();
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  fireClose(): void {
    if (this.#closeFired) return;
    this.#closeFired = true;
    this.onclose?.();
  }
}

/** Too large, or refused by the channel for good (a retryable failure is retried instead). */
function isUndeliverable(error: unknown): boolean {
  if (!AsyncMcpError.isInstance(error)) return false;
  return error.code === AsyncMcpErrorCode.MessageTooLarge || !error.isRetryable;
}

/** `addressOf`, with a refused destination reported instead of thrown. */
export function readAddress<A>(
  addressOf: (request: JSONRPCRequest, attributes: Readonly<Record<string, string>>) => A | undefined,
  request: JSONRPCRequest,
  attributes: Readonly<Record<string, string>>,
): { address: A | undefined } | { refused: DestinationRefusedError } {
  try {
    return { address: addressOf(request, attributes) };
  } catch (error) {
    if (error instanceof DestinationRefusedError) return { refused: error };
    throw error;
  }
}

/** Logs a refused destination (it names no secret) and builds the rejection; nothing is sent. */
export function refusedDestination<R>(
  logger: Logger,
  refused: DestinationRefusedError,
  sessionId: string | undefined,
  requestId: RequestId | undefined,
  rejected: (error: JSONRPCErrorResponse) => R,
): R {
  logger.warn(
    { reason: 'refused-destination', sessionId, requestId, detail: refused.message },
    'message rejected: it names a response destination this server does not send to',
  );
  return rejected(jsonRpcError(JsonRpcErrorCode.InvalidRequest, refused.message, requestId));
}
