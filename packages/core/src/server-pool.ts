import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { type Clock, type ClockTimer, systemClock, unrefTimer } from './clock.js';
import type { ServerFactory } from './contracts.js';
import { describeError, TransportStateError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import { PooledServer } from './pooled-server.js';
import { type ServerKey, serverKeyId } from './server-key.js';

export interface ServerPoolStats {
  /** Servers created and initialized. */
  serversStarted: number;
  /** Servers whose transport closed, for any reason. */
  serversClosed: number;
  /** Idle servers closed to make room for another key. */
  serversEvicted: number;
  /** Servers closed after being unused for the idle timeout. */
  serversIdleClosed: number;
  /** Servers that closed by themselves (a crash), not because the pool closed them. */
  serversCrashed: number;
}

export interface ServerPoolOptions {
  createServer: ServerFactory;
  /** What a server sends (answers, notifications, requests), except its `initialize` answer. */
  onmessage: (server: PooledServer, message: JSONRPCMessage, options?: TransportSendOptions) => Promise<void>;
  /** A server's transport closed; requests still running on it will get no answer. */
  onclose?: (server: PooledServer) => void;
  /**
   * How many servers are kept. A new key closes the least recently used idle server to make room;
   * when every server is running a request, the pool goes over the limit for the moment and closes the
   * extras as they become idle. Busy servers are never closed, and a new key never waits, so a request
   * is not held behind other sessions' long calls: how many servers can be busy at once is bounded by
   * how many requests the caller runs at once (a queue consumer's concurrency).
   * @default 4
   */
  maxServers?: number;
  /** A server unused this long is closed. @default 60000 */
  idleTimeoutMs?: number;
  /** A server that has not answered `initialize` after this long is closed, and its requests fail. @default 30000 */
  startTimeoutMs?: number;
  /** Time source of the idle and start timeouts; tests pass a `ManualClock`. @default systemClock */
  clock?: Clock;
  logger?: Logger;
  /** Counters to update; pass your own object to keep them beside others. @default a new object */
  stats?: ServerPoolStats;
}

interface Entry {
  readonly server: PooledServer;
  ready: Promise<void>;
  started: boolean;
  /** Requests (or `initialize` answers) using the server now; only a server with none may be closed. */
  leases: number;
  idleTimer: ClockTimer | undefined;
}

export function emptyServerPoolStats(): ServerPoolStats {
  return { serversStarted: 0, serversClosed: 0, serversEvicted: 0, serversIdleClosed: 0, serversCrashed: 0 };
}

/**
 * Initialized MCP servers, one per `ServerKey`, shared by every request with that key. A caller takes
 * a lease with `acquire` and gives it back with `release`; a leased server is never closed by the pool.
 */
export class ServerPool {
  readonly stats: ServerPoolStats;
  readonly #options: ServerPoolOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #maxServers: number;
  /** In order of use, least recently used first (a `Map` keeps insertion order; use re-inserts). */
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  constructor(options: ServerPoolOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#maxServers = Math.max(1, options.maxServers ?? 4);
    this.stats = options.stats ?? emptyServerPoolStats();
  }

  /** Servers started or starting. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The ready server for `key`, started if there is none, with a lease the caller must `release`.
   * Rejects when the server cannot be started, or closed before it was ready.
   */
  async acquire(key: ServerKey): Promise<PooledServer> {
    if (this.#closed) throw new TransportStateError('closed', 'server pool');
    const keyId = serverKeyId(key);
    let entry = this.#entries.get(keyId);
    if (entry) {
      this.#entries.delete(keyId);
      this.#entries.set(keyId, entry);
    } else {
      this.#trim(1);
      entry = this.#start(keyId, key);
    }
    // Taken before any wait, so that nothing closes the server between here and the caller's use.
    entry.leases++;
    this.#cancelIdleTimer(entry);
    try {
      await entry.ready;
    } catch (cause) {
      entry.leases--;
      throw cause;
    }
    if (entry.server.closed) throw new TransportStateError('closed', 'pooled server');
    return entry.server;
  }

  /** Gives back a lease; a server left with none is closed after the idle timeout (or now, if over the limit). */
  release(server: PooledServer): void {
    const entry = this.#entries.get(server.keyId);
    // Already dropped (it closed): nothing to give back to.
    if (!entry || entry.server !== server || entry.leases === 0) return;
    entry.leases--;
    if (entry.leases > 0) return;
    this.#trim(0);
    if (this.#entries.get(server.keyId) === entry) this.#scheduleIdleClose(server.keyId, entry);
  }

  /** Closes every server, leased or not. Requests running on them get no answer (see `onclose`). */
  async close(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#entries.values()];
    await Promise.allSettled(entries.map((entry) => this.#retire(entry)));
  }

  #start(keyId: string, key: ServerKey): Entry {
    const server = new PooledServer({
      keyId,
      key,
      onmessage: this.#options.onmessage,
      onclose: (closed, expected) => this.#closedFromServer(closed, expected),
      logger: this.#logger,
    });
    const entry: Entry = {
      server,
      ready: Promise.resolve(),
      started: false,
      leases: 0,
      idleTimer: undefined,
    };
    this.#entries.set(keyId, entry);
    entry.ready = server
      .open(this.#options.createServer, this.#clock, this.#options.startTimeoutMs ?? 30_000)
      .then(
        () => {
          entry.started = true;
          this.stats.serversStarted++;
          this.#logger.info(
            { protocolVersion: key.protocolVersion, client: key.clientInfo.name },
            'pooled server started',
          );
        },
        (cause: unknown) => {
          this.#drop(entry);
          this.#logger.error({ err: describeError(cause) }, 'could not start a pooled server');
          throw cause;
        },
      );
    return entry;
  }

  /** Closes least recently used idle servers until `room` more fit under the limit (or none is idle). */
  #trim(room: number): void {
    for (const entry of this.#entries.values()) {
      if (this.#entries.size + room <= this.#maxServers) return;
      if (entry.leases > 0 || !entry.started) continue;
      this.stats.serversEvicted++;
      this.#logger.info({ servers: this.#entries.size }, 'pooled server evicted to make room');
      void this.#retire(entry);
    }
    if (this.#entries.size + room > this.#maxServers) {
      this.#logger.debug(
        { servers: this.#entries.size, maxServers: this.#maxServers },
        'server pool over its limit while every server is busy',
      );
    }
  }

  #scheduleIdleClose(keyId: string, entry: Entry): void {
    this.#cancelIdleTimer(entry);
    const idleTimeoutMs = this.#options.idleTimeoutMs ?? 60_000;
    entry.idleTimer = unrefTimer(
      this.#clock,
      () => {
        entry.idleTimer = undefined;
        if (entry.leases > 0 || this.#entries.get(keyId) !== entry) return;
        this.stats.serversIdleClosed++;
        this.#logger.info({ idleTimeoutMs }, 'idle pooled server closed');
        void this.#retire(entry);
      },
      idleTimeoutMs,
    );
  }

  #cancelIdleTimer(entry: Entry): void {
    if (entry.idleTimer === undefined) return;
    this.#clock.clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
  }

  /** Removes an entry at once (so no new lease finds it) and closes its server. */
  #retire(entry: Entry): Promise<void> {
    this.#drop(entry);
    return entry.server.shutdown();
  }

  #drop(entry: Entry): void {
    this.#cancelIdleTimer(entry);
    if (this.#entries.get(entry.server.keyId) === entry) this.#entries.delete(entry.server.keyId);
  }

  #closedFromServer(server: PooledServer, expected: boolean): void {
    const entry = this.#entries.get(server.keyId);
    if (entry?.server === server) this.#drop(entry);
    this.stats.serversClosed++;
    if (!expected) {
      this.stats.serversCrashed++;
      this.#logger.warn(
        { protocolVersion: server.key.protocolVersion },
        'pooled server closed by itself; dropped from the pool',
      );
    }
    this.#options.onclose?.(server);
  }
}
