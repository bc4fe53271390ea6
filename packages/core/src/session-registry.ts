import { type Clock, type ClockTimer, systemClock, unrefTimer } from './clock.js';
import type { SessionInfo } from './contracts.js';
import { SESSION_DEFAULTS } from './defaults.js';
import { AsyncMcpErrorCode, SessionError } from './errors.js';

export interface SessionRegistryOptions<T> {
  /**
   * Most live sessions at once; `add` beyond it throws a `SessionError`. `Infinity` lifts the limit.
   * @default SESSION_DEFAULTS.maxSessions (1000)
   */
  maxSessions?: number;
  /**
   * Sessions idle longer than this are evicted; `Infinity` keeps them until they are removed.
   * @default SESSION_DEFAULTS.sessionIdleTimeoutMs (1800000, 30 minutes)
   */
  idleTimeoutMs?: number;
  /** How many ended session ids are remembered, to tell "terminated" from "unknown". @default 10000 */
  terminatedMemory?: number;
  /** A session may refuse eviction while it is busy (e.g. a request is running). */
  isBusy?: (value: T) => boolean;
  /** Called for each session evicted for idleness, after it left the registry. */
  onEvict?: (sessionId: string, value: T) => void;
  /** Clock in milliseconds; replace it in tests. @default the clock's `now` */
  now?: () => number;
  /** Time source for idleness and the eviction sweep; replace it in tests. @default systemClock */
  clock?: Clock;
}

export type SessionStatus<T> =
  | { state: 'live'; value: T }
  | { state: 'terminated'; tombstone: Tombstone }
  | { state: 'unknown' };

/** What is kept of an ended session: enough to answer a late message with the right error. */
export interface Tombstone {
  readonly endedAt: number;
  /** Transport-specific: where the session's client was reachable. */
  readonly address: unknown;
}

interface Slot<T> {
  value: T;
  lastActivityAt: number;
}

/**
 * The live sessions of a manager or a gateway, by id: a cap on their number, idle eviction, and a bounded
 * memory of ended ids. The eviction timer is unref'd so it never keeps a process alive.
 */
export class SessionRegistry<T> {
  readonly #slots = new Map<string, Slot<T>>();
  readonly #tombstones = new Map<string, Tombstone>();
  readonly #options: SessionRegistryOptions<T>;
  readonly #now: () => number;
  readonly #clock: Clock;
  #timer: ClockTimer | undefined;
  #disposed = false;

  constructor(options: SessionRegistryOptions<T> = {}) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#now = options.now ?? (() => this.#clock.now());
    const idle = this.#idleTimeoutMs;
    if (Number.isFinite(idle) && idle > 0) this.#scheduleSweep(Math.max(10, Math.min(idle / 2, 30_000)));
  }

  #scheduleSweep(everyMs: number): void {
    if (this.#disposed) return;
    this.#timer = unrefTimer(
      this.#clock,
      () => {
        // The next sweep is booked first, so an `onEvict` that throws cannot stop eviction for good.
        this.#scheduleSweep(everyMs);
        this.sweep();
      },
      everyMs,
    );
  }

  get size(): number {
    return this.#slots.size;
  }

  get maxSessions(): number {
    return this.#options.maxSessions ?? SESSION_DEFAULTS.maxSessions;
  }

  get #idleTimeoutMs(): number {
    return this.#options.idleTimeoutMs ?? SESSION_DEFAULTS.sessionIdleTimeoutMs;
  }

  /** Whether one more session may be added. */
  hasRoom(): boolean {
    return this.#slots.size < this.maxSessions;
  }

  add(sessionId: string, value: T): void {
    if (this.#slots.has(sessionId)) {
      throw new SessionError({
        message: `Session ${sessionId} already exists`,
        code: AsyncMcpErrorCode.SessionLimit,
        sessionId,
      });
    }
    if (!this.hasRoom()) {
      throw new SessionError({
        message: `Session limit reached (${this.maxSessions})`,
        code: AsyncMcpErrorCode.SessionLimit,
        sessionId,
      });
    }
    this.#tombstones.delete(sessionId);
    this.#slots.set(sessionId, { value, lastActivityAt: this.#now() });
  }

  get(sessionId: string): T | undefined {
    return this.#slots.get(sessionId)?.value;
  }

  status(sessionId: string): SessionStatus<T> {
    const slot = this.#slots.get(sessionId);
    if (slot) return { state: 'live', value: slot.value };
    const tombstone = this.#tombstones.get(sessionId);
    if (tombstone) return { state: 'terminated', tombstone };
    return { state: 'unknown' };
  }

  /** Records activity on a session, postponing its eviction. */
  touch(sessionId: string): void {
    const slot = this.#slots.get(sessionId);
    if (slot) slot.lastActivityAt = this.#now();
  }

  lastActivityAt(sessionId: string): number | undefined {
    return this.#slots.get(sessionId)?.lastActivityAt;
  }

  /** Removes a session and remembers that it ended. Returns its value, if it was live. */
  remove(sessionId: string, address?: unknown): T | undefined {
    const slot = this.#slots.get(sessionId);
    if (!slot) return undefined;
    this.#slots.delete(sessionId);
    this.#tombstones.set(sessionId, { endedAt: this.#now(), address });
    const memory = this.#options.terminatedMemory ?? 10_000;
    while (this.#tombstones.size > memory) {
      const oldest = this.#tombstones.keys().next().value;
      if (oldest === undefined) break;
      this.#tombstones.delete(oldest);
    }
    return slot.value;
  }

  ids(): IterableIterator<string> {
    return this.#slots.keys();
  }

  *entries(): IterableIterator<[string, T]> {
    for (const [id, slot] of this.#slots) yield [id, slot.value];
  }

  /** Evicts every session idle past the timeout and not busy; returns their ids. */
  sweep(): string[] {
    const idle = this.#idleTimeoutMs;
    if (!Number.isFinite(idle)) return [];
    const now = this.#now();
    const evicted: string[] = [];
    for (const [id, slot] of this.#slots) {
      if (now - slot.lastActivityAt < idle) continue;
      if (this.#options.isBusy?.(slot.value)) continue;
      evicted.push(id);
    }
    for (const id of evicted) {
      const value = this.remove(id);
      if (value !== undefined) this.#options.onEvict?.(id, value);
    }
    return evicted;
  }

  /** Stops the eviction timer. Sessions stay; their owner closes them. */
  dispose(): void {
    this.#disposed = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** What a session value must tell for `snapshotSessions`. */
export interface SessionInfoSource {
  readonly clientId: string | undefined;
  readonly protocolVersion: string | undefined;
  readonly createdAt: number;
}

/** The live sessions of a registry as `SessionInfo`s: what a session manager reports as `sessions`. */
export function snapshotSessions<T extends SessionInfoSource>(
  registry: SessionRegistry<T>,
): ReadonlyMap<string, SessionInfo> {
  const map = new Map<string, SessionInfo>();
  for (const [id, session] of registry.entries()) {
    map.set(id, {
      sessionId: id,
      clientId: session.clientId,
      protocolVersion: session.protocolVersion,
      createdAt: session.createdAt,
      lastActivityAt: registry.lastActivityAt(id) ?? session.createdAt,
    });
  }
  return map;
}
