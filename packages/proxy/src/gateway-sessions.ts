import {
  type Backend,
  type BackendSessionTransport,
  describeError,
  type FleetClient,
  generateSessionId,
  type Logger,
  SessionRegistry,
  sessionLogId,
} from '@asyncmcp/core';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { adoptedFront, streamRequestIds } from './adopted-front.js';
import { confirmSession } from './confirm-session.js';
import { sessionLogger } from './default-logger.js';
import { BoundedEventStore, EventStoreBudget } from './event-store.js';
import { PROXY_DEFAULTS } from './proxy-defaults.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import type { ProxyServerOptions } from './proxy-server-options.js';
import { SessionBridge } from './session-bridge.js';
import { SessionFront } from './session-front.js';

/** Why a call still running when its client deleted the session ends; the client sees it in the error. */
const SESSION_DELETED = 'the session was deleted (HTTP DELETE)';

export interface GatewaySession {
  readonly key: string;
  readonly front: SessionFront;
  readonly back: BackendSessionTransport;
  readonly bridge: SessionBridge;
  readonly events: BoundedEventStore;
  readonly log: Logger;
  /** Opened by another instance of the fleet; this one took it over on a request for it. */
  readonly adopted: boolean;
  /** A GET stream was opened here before. */
  listened: boolean;
}

/** How a request for a session this instance does not hold ended up. */
export type Adoption =
  | { readonly status: 'adopted'; readonly session: GatewaySession }
  | { readonly status: 'refused'; readonly httpStatus: number; readonly message: string };

/**
 * The gateway's live sessions, each a front transport, a backend transport and the bridge between them:
 * opening one (here, or adopting one another instance of the fleet opened), and ending it for any reason.
 */
export class GatewaySessions {
  readonly #options: ProxyServerOptions;
  readonly #backend: Backend;
  readonly #metrics: ProxyMetrics;
  readonly #logger: Logger;
  readonly #registry: SessionRegistry<GatewaySession>;
  readonly #eventBudget: EventStoreBudget;
  /** Sessions being adopted, so that requests arriving together for one share its round trip. */
  readonly #adoptions = new Map<string, Promise<Adoption>>();
  /** Set once the gateway stops: no session opens after. */
  closing = false;

  constructor(options: ProxyServerOptions, metrics: ProxyMetrics, logger: Logger) {
    this.#options = options;
    this.#backend = options.backend;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#eventBudget = new EventStoreBudget({ maxTotalBytes: options.eventStore?.maxTotalBytes });
    this.#registry = new SessionRegistry<GatewaySession>({
      maxSessions: options.maxSessions ?? PROXY_DEFAULTS.maxSessions,
      idleTimeoutMs: options.sessionIdleTimeoutMs ?? PROXY_DEFAULTS.sessionIdleTimeoutMs,
      clock: options.clock,
      isBusy: (session) => session.bridge.inFlight > 0,
      onEvict: (key, session) => {
        sessionLogger(logger, sessionLogId(key)).info({}, 'idle session evicted');
        void this.end(session, 'idle', 'the session was closed as idle');
      },
    });
  }

  get size(): number {
    return this.#registry.size;
  }

  get maxSessions(): number {
    return this.#registry.maxSessions;
  }

  hasRoom(): boolean {
    return this.#registry.hasRoom();
  }

  get(key: string): GatewaySession | undefined {
    return this.#registry.get(key);
  }

  /** Whether the session was live here once and has ended, rather than never known. */
  isTerminated(key: string): boolean {
    return this.#registry.status(key).state === 'terminated';
  }

  touch(key: string): void {
    this.#registry.touch(key);
  }

  ids(): string[] {
    return [...this.#registry.ids()];
  }

  all(): GatewaySession[] {
    return [...this.#registry.entries()].map(([, session]) => session);
  }

  /**
   * A new session opened here, under a key of this instance's (or the fleet's) making; `client` is what
   * its `initialize` says of the client, which a fleet's key may carry to the other instances.
   */
  open(client?: FleetClient): Promise<GatewaySession> {
    return this.#build(this.#backend.fleet?.mintSessionKey(client) ?? generateSessionId('hex'));
  }

  /** Frees a session that never started (its initialize was refused): not counted as opened or closed. */
  discard(session: GatewaySession): void {
    if (this.#registry.get(session.key) !== session) return;
    this.#registry.remove(session.key);
    session.events.clear();
    this.#metrics.sessions.set(this.#registry.size);
  }

  /** Ends a session; its running calls get a JSON-RPC error naming `cause` (see `SessionBridge.close`). */
  async end(session: GatewaySession, reason: string, cause: string): Promise<void> {
    this.#forget(session.key, reason);
    // Other instances of the fleet may serve the session too: only its client's DELETE ends it there.
    if (reason !== 'deleted') session.back.keepServerSession?.();
    await session.bridge.close(cause);
  }

  /**
   * Takes over a session another instance of the fleet opened (PROTOCOL.md §7b): one `ping` under its
   * session id asks the servers whether they hold it; only then does it get a transport here. A key the
   * servers do not know costs that round trip and gets 404, as on the instance that never had it.
   */
  adopt(key: string, protocolVersionHeader: string | undefined): Promise<Adoption> {
    let adoption = this.#adoptions.get(key);
    if (adoption === undefined) {
      adoption = this.#adoptNow(key, protocolVersionHeader).finally(() => this.#adoptions.delete(key));
      this.#adoptions.set(key, adoption);
    }
    return adoption;
  }

  dispose(): void {
    this.#registry.dispose();
  }

  async #adoptNow(key: string, named: string | undefined): Promise<Adoption> {
    if (this.closing) {
      return {
        status: 'refused',
        httpStatus: 503,
        message: 'Service unavailable: the gateway is shutting down',
      };
    }
    if (!this.hasRoom()) {
      this.#metrics.sessionsRejected.inc({ reason: 'limit' });
      return {
        status: 'refused',
        httpStatus: 503,
        message: `Service unavailable: session limit reached (${this.maxSessions})`,
      };
    }
    // An unsupported version is the SDK transport's to refuse (400) once the session is here.
    const protocolVersion =
      named !== undefined && SUPPORTED_PROTOCOL_VERSIONS.includes(named) ? named : undefined;
    let session: GatewaySession;
    try {
      session = await this.#build(key, { protocolVersion });
    } catch (error) {
      this.#metrics.sessionsRejected.inc({ reason: 'backend' });
      this.#logger.error({ err: describeError(error) }, 'could not open a backend session');
      return { status: 'refused', httpStatus: 503, message: `Backend unavailable: ${describeError(error)}` };
    }
    const requestTimeoutMs = this.#options.requestTimeoutMs ?? PROXY_DEFAULTS.adoptTimeoutMs;
    const confirmed = await confirmSession(session.back, {
      timeoutMs: Math.min(requestTimeoutMs, PROXY_DEFAULTS.adoptTimeoutMs),
    });
    if (confirmed.status === 'held') {
      this.#metrics.sessionsAdopted.inc({ outcome: 'adopted' });
      session.log.info({ backend: this.#backend.name }, 'session adopted from another gateway instance');
      return { status: 'adopted', session };
    }
    this.discard(session);
    session.back.keepServerSession?.();
    await session.bridge.close();
    if (confirmed.status === 'unknown') {
      this.#metrics.sessionsAdopted.inc({ outcome: 'unknown' });
      return { status: 'refused', httpStatus: 404, message: `Session not found: ${key}` };
    }
    this.#metrics.sessionsAdopted.inc({ outcome: 'unconfirmed' });
    session.log.warn({ detail: confirmed.detail }, 'session of another instance could not be confirmed');
    return {
      status: 'refused',
      httpStatus: 503,
      message: `Service unavailable: the servers did not confirm the session: ${confirmed.detail}`,
    };
  }

  /** A gateway session: opened here, or with `adopted`, one another instance of the fleet opened. */
  async #build(key: string, adopted?: { protocolVersion: string | undefined }): Promise<GatewaySession> {
    const options = this.#options;
    const log = sessionLogger(this.#logger, sessionLogId(key));
    const back: BackendSessionTransport = await this.#backend.createTransport({
      sessionKey: key,
      logger: log,
      adopted,
    });
    const events = new BoundedEventStore({
      maxEvents: options.eventStore?.maxEvents,
      maxBytes: options.eventStore?.maxBytes,
      budget: this.#eventBudget,
    });
    const enableJsonResponse = options.enableJsonResponse ?? false;
    const onsessionclosed = this.#onsessionclosed;
    const front = adopted
      ? adoptedFront({ sessionId: key, eventStore: events, enableJsonResponse, onsessionclosed })
      : new SessionFront({
          sessionIdGenerator: () => key,
          eventStore: events,
          enableJsonResponse,
          onsessionclosed,
        });
    const bridge = new SessionBridge({
      front,
      back,
      requestTimeoutMs: options.requestTimeoutMs,
      maxInFlight: options.maxInFlightPerSession ?? PROXY_DEFAULTS.maxInFlightPerSession,
      clock: options.clock,
      logger: log,
      observer: this.#metrics.observer(),
      serverMessageStream: enableJsonResponse ? 'session' : 'request',
      onclose: () => this.#forget(key, 'closed'),
      onInitializeRefused: () => this.#refusedByServer(key),
    });
    // Its event ids name the calls each stream answers, for an instance the client resumes it on.
    events.setRequestIdsOf(streamRequestIds(front));
    const session: GatewaySession = {
      key,
      front,
      back,
      bridge,
      events,
      log,
      adopted: adopted !== undefined,
      listened: false,
    };
    await bridge.start();
    this.#registry.add(key, session);
    this.#metrics.sessions.set(this.#registry.size);
    return session;
  }

  /** A client deleted its session (HTTP DELETE): one function for every session, given its key. */
  readonly #onsessionclosed = async (key: string | undefined): Promise<void> => {
    const session = key === undefined ? undefined : this.#registry.get(key);
    if (key === undefined || session === undefined) return;
    session.log.info({}, 'session deleted by the client');
    this.#forget(key, 'deleted');
    // The SDK closes the session's streams as soon as this returns: each running call gets its error
    // on its own stream first. The backend side closes after, without holding up the DELETE.
    await session.bridge.endRunning(SESSION_DELETED);
    void this.end(session, 'deleted', SESSION_DELETED);
  };

  /**
   * The server refused the session's `initialize` and the client has its answer: the session never
   * started, so it frees its slot now, counted as refused rather than opened.
   */
  #refusedByServer(key: string): void {
    const session = this.#registry.get(key);
    if (session === undefined) return;
    session.log.info({}, 'initialize refused by the server; session not kept');
    this.#metrics.sessionsRejected.inc({ reason: 'refused' });
    this.discard(session);
    void session.bridge.close();
  }

  #forget(key: string, reason: string): void {
    const session = this.#registry.get(key);
    if (session === undefined) return;
    this.#registry.remove(key);
    session.events.clear();
    this.#metrics.sessionsClosed.inc({ reason });
    this.#metrics.sessions.set(this.#registry.size);
  }
}
