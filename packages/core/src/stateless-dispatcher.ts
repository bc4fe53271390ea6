import {
  type JSONRPCErrorResponse,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type JSONRPCResultResponse,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import { ClientReplies } from './client-replies.js';
import { type Clock, systemClock } from './clock.js';
import { decodeMessage, isInitializeRequest, isRequest } from './codec.js';
import type { ServerFactory, SessionInfo } from './contracts.js';
import { DedupeWindow, dedupeKey } from './dedupe-window.js';
import type {
  DispatcherOptions,
  DispatcherStats,
  DispatchResult,
  InboundMessage,
  RejectReason,
  SendTarget,
  Settlement,
} from './dispatch-contract.js';
import { logRejection, readAddress, refusedDestination, rejected } from './dispatch-rejections.js';
import { Attribute } from './envelope.js';
import { describeError } from './errors.js';
import { checkSessionClaim, malformedMessage, protocolVersionProblem } from './inbound-checks.js';
import {
  internalError,
  JsonRpcErrorCode,
  jsonRpcError,
  unsupportedProtocolVersionError,
  validationError,
} from './jsonrpc-errors.js';
import { type Logger, sessionLogId, silentLogger } from './logger.js';
import { WORKER_META_KEY, withResultMeta } from './meta.js';
import type { PooledServer } from './pooled-server.js';
import { initializeKeyOf, requestKeyOf, type ServerKey } from './server-key.js';
import { emptyServerPoolStats, ServerPool, type ServerPoolStats } from './server-pool.js';
import { sessionIdFor } from './session-id.js';
import { settleWithin } from './settle-within.js';
import { StatelessRunner, type StatelessRunnerStats } from './stateless-runner.js';

export interface StatelessDispatcherOptions<A> extends DispatcherOptions<A> {
  /** Makes a pooled server; called once per `ServerKey` the pool has no server for. */
  createServer: ServerFactory;
  /** Servers kept, one per `ServerKey`; see `ServerPoolOptions.maxServers`. @default 4 */
  maxServers?: number;
  /** Pooled servers unused this long are closed. @default 60000 */
  serverIdleTimeoutMs?: number;
  /** A pooled server that has not answered `initialize` after this long is given up. @default 30000 */
  serverStartTimeoutMs?: number;
  /** Time source of the pool's timeouts and of `close`'s deadline; tests pass a `ManualClock`. @default systemClock */
  clock?: Clock;
}

export interface StatelessDispatcherStats extends DispatcherStats, ServerPoolStats, StatelessRunnerStats {}

/** MCP methods that only make sense with a session that outlives a request. */
const STATEFUL_METHODS = new Set(['resources/subscribe', 'resources/unsubscribe']);

/**
 * The sibling of `SessionDispatcher` for MCP servers that keep no per-session state: any worker on a
 * shared queue answers any request of any session, from a small pool of initialized servers keyed by
 * what `initialize` tells a server (version, capabilities, client info; each request repeats them in its
 * `_meta`). It holds no session, so a worker killed mid-call loses nothing: a request settles only once
 * its answer is sent, and `'failed'` when its server dies under it, so the queue delivers it again.
 *
 * Limits of the model: a server→client request (sampling, elicitation, roots) is refused, as its answer
 * would reach whichever worker reads the queue; a notification outside any request has no session to
 * go to; a cancellation reaches the request only when it lands on the worker running it.
 */
export class StatelessDispatcher<A> {
  readonly stats: StatelessDispatcherStats = {
    accepted: 0,
    rejected: 0,
    duplicates: 0,
    sessionsOpened: 0,
    sessionsClosed: 0,
    // Stateless: no session outlives its request, so none is ended for a gone client.
    clientsGone: 0,
    serverRequestsRefused: 0,
    notificationsDropped: 0,
    lateMessagesDropped: 0,
    ...emptyServerPoolStats(),
  };
  readonly #options: StatelessDispatcherOptions<A>;
  readonly #logger: Logger;
  readonly #supported: readonly string[];
  readonly #clock: Clock;
  readonly #dedupe: DedupeWindow;
  readonly #replies: ClientReplies<A>;
  readonly #pool: ServerPool;
  readonly #runner: StatelessRunner<A>;
  #closing = false;

  constructor(options: StatelessDispatcherOptions<A>) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#supported = options.supportedProtocolVersions ?? SUPPORTED_PROTOCOL_VERSIONS;
    this.#clock = options.clock ?? systemClock;
    const clock = this.#clock;
    this.#dedupe = new DedupeWindow({ now: () => clock.now(), ...options.dedupe });
    this.#replies = new ClientReplies(options.send, this.#logger);
    this.#runner = new StatelessRunner<A>({
      replies: this.#replies,
      send: options.send,
      dedupe: this.#dedupe,
      release: (server) => this.#pool.release(server),
      clock,
      logger: this.#logger,
      stats: this.stats,
    });
    this.#pool = new ServerPool({
      createServer: options.createServer,
      onmessage: (server, message, sendOptions) => this.#runner.fromServer(server, message, sendOptions),
      onclose: (server) => this.#runner.serverClosed(server),
      maxServers: options.maxServers,
      idleTimeoutMs: options.serverIdleTimeoutMs,
      startTimeoutMs: options.serverStartTimeoutMs,
      clock,
      logger: this.#logger,
      stats: this.stats,
    });
  }

  /** Always empty: no session is held here. */
  get sessions(): ReadonlyMap<string, SessionInfo> {
    return new Map();
  }

  /** The number of requests handed to servers and not settled yet. */
  get inFlight(): number {
    return this.#runner.size;
  }

  /** Always undefined: the address of each request is read from the request itself. */
  addressOf(_sessionId: string): A | undefined {
    return undefined;
  }

  /** Always false: there is no session here to end. */
  async terminate(_sessionId: string): Promise<boolean> {
    return false;
  }

  /**
   * Routes one inbound message. Resolves once the message is handed to a server (or rejected); the
   * `settled` promise of an accepted message resolves once its effect is durable.
   */
  async dispatch(inbound: InboundMessage): Promise<DispatchResult<A>> {
    const attributes = inbound.attributes;
    const claimed = attributes[Attribute.SessionId];
    const decoded = decodeMessage(inbound.body);
    if (!decoded.ok) {
      const problem = malformedMessage(decoded.error);
      const address =
        problem.reason === 'parse' ? undefined : this.#addressOfInvalid(inbound.body, attributes);
      return this.#reject(problem.reason, problem.error, claimed, problem.what, address);
    }
    const message = decoded.message;
    const request = isRequest(message) ? message : undefined;
    const read = request ? readAddress(this.#options.addressOf, request, attributes) : { address: undefined };
    if ('refused' in read) {
      return refusedDestination(this.#logger, read.refused, claimed, request?.id, (error) =>
        rejected(this.stats, 'refused-destination', error, false, claimed),
      );
    }
    const address = read.address;
    const wrongVersion = protocolVersionProblem(attributes, this.#supported, request?.id);
    if (wrongVersion) {
      return this.#reject(wrongVersion.reason, wrongVersion.error, claimed, wrongVersion.what, address);
    }
    // Not answered: once released, the message goes to a worker that is not stopping.
    if (this.#closing) {
      return rejected(
        this.stats,
        'closing',
        internalError('server is shutting down', request?.id),
        false,
        claimed,
      );
    }
    if (isInitializeRequest(message)) return this.#initialize(message, claimed, address);
    const claim = checkSessionClaim(claimed, request?.id);
    if ('problem' in claim) {
      const { reason, error, what } = claim.problem;
      // Answered with the id the client sent, so that client can match it.
      return this.#reject(reason, error, undefined, what, address, claimed || undefined);
    }
    if (!request) return this.#notification(message as JSONRPCNotification, claim.sessionId);
    return this.#request(request, claim.sessionId, address);
  }

  /** Stops accepting messages, waits up to `timeoutMs` for running requests, then closes every server. */
  async close({ timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing = true;
    await settleWithin(this.#runner.settledAll(), timeoutMs, this.#clock);
    // Requests still running fail as their servers close: the queue gives them to another worker.
    await this.#pool.close();
  }

  async #initialize(
    message: JSONRPCRequest,
    proposed: string | undefined,
    address: A | undefined,
  ): Promise<DispatchResult<A>> {
    if (address === undefined) {
      const error = validationError(`initialize is missing ${this.#options.addressDescription}`, message.id);
      return this.#reject('missing-address', error, undefined, 'initialize without a reply address');
    }
    const sessionId = sessionIdFor(proposed, this.#options.sessionIdFormat);
    const read = initializeKeyOf(message);
    if (!read.ok) {
      const error = validationError(read.problem, message.id);
      return this.#reject('validation', error, sessionId, 'initialize with invalid params', address);
    }
    const lease = await this.#lease(read.key, message, { sessionId, address });
    if (!('server' in lease))
      return rejected(this.stats, 'server-failed', lease.error, lease.replied, sessionId);
    const server = lease.server;
    const result = server.initializeResult ?? {};
    this.#pool.release(server);
    this.stats.accepted++;
    this.stats.sessionsOpened++;
    this.#logger.info({ sessionId: sessionLogId(sessionId) }, 'stateless session opened');
    // The worker hint tells our clients to put the server key and their address on every request.
    const answer = withResultMeta({ jsonrpc: '2.0', id: message.id, result } as JSONRPCResultResponse, {
      [WORKER_META_KEY]: { stateless: true },
    });
    // A redelivered initialize is answered again rather than deduplicated: answering is harmless,
    // and without a proposed id each delivery mints its own session anyway.
    const settled = this.#replies.answer(answer, { sessionId, address });
    return { status: 'accepted', sessionId, created: true, address, settled };
  }

  async #request(
    request: JSONRPCRequest,
    sessionId: string,
    address: A | undefined,
  ): Promise<DispatchResult<A>> {
    if (address === undefined) {
      const error = validationError(
        `${request.method} is missing ${this.#options.addressDescription}`,
        request.id,
      );
      return this.#reject('missing-address', error, sessionId, 'request without a reply address');
    }
    const read = requestKeyOf(request);
    if (!read.ok) {
      const error = validationError(read.problem, request.id);
      return this.#reject('validation', error, sessionId, 'request without its client _meta', address);
    }
    if (!this.#supported.includes(read.key.protocolVersion)) {
      const error = unsupportedProtocolVersionError(read.key.protocolVersion, this.#supported, request.id);
      return this.#reject('protocol-version', error, sessionId, 'unsupported version in _meta', address);
    }
    const target = { sessionId, address };
    const accepted = (settled: Promise<Settlement>): DispatchResult<A> => {
      this.stats.accepted++;
      return { status: 'accepted', ...target, created: false, settled };
    };
    if (STATEFUL_METHODS.has(request.method)) {
      const error = jsonRpcError(
        JsonRpcErrorCode.MethodNotFound,
        `${request.method} is not available: resource subscriptions need a stateful session, and this server runs stateless`,
        request.id,
      );
      return accepted(this.#replies.answer(error, target));
    }
    const key = dedupeKey(sessionId, request.id);
    const state = this.#dedupe.begin(key);
    if (state !== 'new') {
      this.stats.duplicates++;
      this.#logger.info(
        { sessionId: sessionLogId(sessionId), requestId: request.id, state },
        'redelivered request skipped',
      );
      return {
        status: 'accepted',
        ...target,
        created: false,
        settled: this.#runner.duplicateOf(sessionId, request.id),
      };
    }
    const lease = await this.#lease(read.key, request, target);
    if (!('server' in lease)) {
      this.#dedupe.release(key);
      return rejected(this.stats, 'server-failed', lease.error, lease.replied, sessionId);
    }
    return accepted(this.#runner.start(request, { ...target, server: lease.server }));
  }

  #notification(message: JSONRPCNotification, sessionId: string): DispatchResult<A> {
    this.stats.accepted++;
    const cancelledAddress = this.#runner.cancel(sessionId, message);
    if (cancelledAddress === undefined) {
      // `notifications/initialized`, `…/asyncmcp/terminate`, a cancel for a request running elsewhere:
      // nothing here to update.
      this.#logger.debug(
        { sessionId: sessionLogId(sessionId), method: message.method },
        'client notification needs nothing here',
      );
    }
    // A notification names no address (only requests carry one), and nothing is sent back for it: the
    // field holds the cancelled request's address, or undefined.
    const address = cancelledAddress as A;
    return { status: 'accepted', sessionId, created: false, address, settled: Promise.resolve('delivered') };
  }

  /** A pooled server for `key`, or the internal error `message` was answered with when there is none. */
  async #lease(
    key: ServerKey,
    message: JSONRPCRequest,
    target: SendTarget<A>,
  ): Promise<{ server: PooledServer } | { error: JSONRPCErrorResponse; replied: boolean }> {
    try {
      return { server: await this.#pool.acquire(key) };
    } catch (cause) {
      this.#logger.error(
        { sessionId: sessionLogId(target.sessionId), err: describeError(cause) },
        'no pooled server',
      );
      const error = internalError(`could not start a server: ${describeError(cause)}`, message.id);
      return { error, replied: await this.#replies.trySend(error, target) };
    }
  }

  /** The answer address of a request that failed validation, when the JSON still names one. */
  #addressOfInvalid(body: string | Uint8Array, attributes: Readonly<Record<string, string>>): A | undefined {
    try {
      const value: unknown = JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body));
      if (typeof value !== 'object' || value === null || !('method' in value) || !('id' in value))
        return undefined;
      const read = readAddress(this.#options.addressOf, value as JSONRPCRequest, attributes);
      // A malformed message is poison either way; one naming a refused destination gets no answer.
      return 'address' in read ? read.address : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Rejects a message, answering it when both an address and a session id are known: every answer
   * carries a `SessionId` (an attribute, which SQS and SNS refuse empty), so a message naming no
   * session is only logged, as `SessionDispatcher` does.
   */
  async #reject(
    reason: RejectReason,
    error: JSONRPCErrorResponse,
    sessionId: string | undefined,
    what: string,
    address?: A,
    replySessionId = sessionId,
  ): Promise<DispatchResult<A>> {
    const replied =
      address !== undefined &&
      replySessionId !== undefined &&
      (await this.#replies.trySend(error, { sessionId: replySessionId, address }));
    logRejection(this.#logger, what, { reason, error, sessionId, replied });
    return rejected(this.stats, reason, error, replied, sessionId);
  }
}
