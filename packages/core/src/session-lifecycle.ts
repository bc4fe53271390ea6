import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCErrorResponse, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from './clock.js';
import type { ConnectableServer, ServerFactory, SessionInfo } from './contracts.js';
import { describeError } from './errors.js';
import { internalError } from './jsonrpc-errors.js';
import { type Logger, sessionLogId } from './logger.js';
import {
  type SessionInfoSource,
  SessionRegistry,
  type SessionStatus,
  snapshotSessions,
} from './session-registry.js';

/** What the lifecycle needs of a session: its id, its server, and a way to tell it it is over. */
export interface LifecycleSession extends SessionInfoSource {
  readonly sessionId: string;
  server: ConnectableServer | undefined;
  /** Set once the session is ending; no message goes to it after that. */
  closed: boolean;
  /** Where its client was reachable, kept after it ends to answer a late message. */
  readonly address?: unknown;
  /** Fires the session transport's `onclose`, once. */
  fireClose(): void;
}

/** How many sessions a server manager holds, and for how long an idle one is kept. */
export interface SessionLimits {
  /**
   * Most live sessions; an `initialize` beyond it is refused with a JSON-RPC error. `Infinity` lifts
   * the limit. @default SESSION_DEFAULTS.maxSessions (1000)
   */
  maxSessions?: number;
  /**
   * Sessions with no traffic and no running request for this long are closed; `Infinity` never.
   * @default SESSION_DEFAULTS.sessionIdleTimeoutMs (1800000, 30 minutes)
   */
  sessionIdleTimeoutMs?: number;
}

export interface SessionLifecycleOptions<S> {
  /** @default SESSION_DEFAULTS.maxSessions (1000) */
  maxSessions?: number | undefined;
  /** @default SESSION_DEFAULTS.sessionIdleTimeoutMs (1800000, 30 minutes) */
  idleTimeoutMs?: number | undefined;
  /** @default systemClock */
  clock?: Clock | undefined;
  logger: Logger;
  /** A session running a request is not evicted for idleness. */
  isBusy: (session: S) => boolean;
  /** Releases what a session holds besides its server (its requests, its HTTP transport) as it ends. */
  release?: (session: S) => Promise<void> | void;
  onsessioninitialized?: ((sessionId: string) => void) | undefined;
  onsessionclosed?: ((sessionId: string) => void) | undefined;
}

export interface SessionLifecycleStats {
  sessionsOpened: number;
  sessionsClosed: number;
}

/**
 * The life of a server manager's sessions, whatever carries their messages: a cap on their number, open
 * (counted and announced once the server took its first message), idle eviction, end from any side
 * (its client, its server, eviction, shutdown) exactly once, and the memory of ended ids that tells
 * "terminated" from "unknown".
 */
export class SessionLifecycle<S extends LifecycleSession> {
  readonly #options: SessionLifecycleOptions<S>;
  readonly #registry: SessionRegistry<S>;
  readonly #opened = new WeakSet<S>();
  readonly #stats: SessionLifecycleStats = { sessionsOpened: 0, sessionsClosed: 0 };

  constructor(options: SessionLifecycleOptions<S>) {
    this.#options = options;
    this.#registry = new SessionRegistry<S>({
      maxSessions: options.maxSessions,
      idleTimeoutMs: options.idleTimeoutMs,
      clock: options.clock,
      isBusy: options.isBusy,
      onEvict: (sessionId, session) => {
        options.logger.info({ sessionId: sessionLogId(sessionId) }, 'session evicted after being idle');
        void this.end(session);
      },
    });
  }

  get stats(): SessionLifecycleStats {
    return { ...this.#stats };
  }

  /** The live sessions, as a snapshot. */
  get sessions(): ReadonlyMap<string, SessionInfo> {
    return snapshotSessions(this.#registry);
  }

  get size(): number {
    return this.#registry.size;
  }

  /** The error that refuses a new session when the limit is reached; undefined while there is room. */
  noRoomError(initializeId: RequestId): JSONRPCErrorResponse | undefined {
    if (this.#registry.hasRoom()) return undefined;
    return internalError(`too many sessions (limit ${this.#registry.maxSessions})`, initializeId);
  }

  get(sessionId: string): S | undefined {
    return this.#registry.get(sessionId);
  }

  status(sessionId: string): SessionStatus<S> {
    return this.#registry.status(sessionId);
  }

  /** Records activity on a session, postponing its eviction. */
  touch(sessionId: string): void {
    this.#registry.touch(sessionId);
  }

  live(): S[] {
    return [...this.#registry.entries()].map(([, session]) => session);
  }

  /** Holds a session while its server starts; `opened` or `failedToStart` follows. */
  add(session: S): void {
    this.#registry.add(session.sessionId, session);
  }

  /** Makes a held session's server from the factory and connects it to the session. */
  async connectServer(session: S & Transport, createServer: ServerFactory): Promise<void> {
    const server = await createServer();
    session.server = server;
    await server.connect(session);
  }

  /**
   * A held session whose server could not start: forgotten, neither counted nor announced. Returns the
   * error that answers the `initialize` that asked for it.
   */
  failedToStart(session: S, cause: unknown, initializeId: RequestId): JSONRPCErrorResponse {
    session.closed = true;
    this.#registry.remove(session.sessionId, session.address);
    this.#options.logger.error(
      { sessionId: sessionLogId(session.sessionId), err: describeError(cause) },
      'could not create the MCP server for a session',
    );
    return internalError(`could not start a server for the session: ${describeError(cause)}`, initializeId);
  }

  /** The session is up: counted, logged and announced; only such a session is announced closed. */
  opened(session: S, fields: Record<string, unknown> = {}): void {
    this.#opened.add(session);
    this.#stats.sessionsOpened++;
    this.#options.logger.info({ sessionId: sessionLogId(session.sessionId), ...fields }, 'session opened');
    this.#options.onsessioninitialized?.(session.sessionId);
  }

  /** Ends a session from any side; a second call for the same session does nothing. */
  async end(session: S): Promise<void> {
    if (session.closed) return;
    session.closed = true;
    const logger = this.#options.logger;
    const sessionId = session.sessionId;
    this.#registry.remove(sessionId, session.address);
    const wasOpen = this.#opened.has(session);
    if (wasOpen) {
      this.#stats.sessionsClosed++;
      logger.info({ sessionId: sessionLogId(sessionId) }, 'session closed');
    }
    try {
      await this.#options.release?.(session);
    } catch (cause) {
      logger.warn(
        { sessionId: sessionLogId(sessionId), err: describeError(cause) },
        'transport close failed',
      );
    }
    try {
      await session.server?.close();
    } catch (cause) {
      logger.warn({ sessionId: sessionLogId(sessionId), err: describeError(cause) }, 'server close failed');
    }
    session.fireClose();
    if (wasOpen) this.#options.onsessionclosed?.(sessionId);
  }

  /** Ends every live session with `endOne` (which must end it), then stops idle eviction. */
  async endAll(endOne: (session: S) => Promise<void> = (session) => this.end(session)): Promise<void> {
    await Promise.allSettled(this.live().map(endOne));
    this.#registry.dispose();
  }
}
