import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { requestIdKey } from './request-ids.js';

export interface DedupeWindowOptions {
  /** How many keys are remembered; the oldest are forgotten first. @default 10000 */
  maxEntries?: number;
  /** How long an answered key is remembered. @default 300000 (5 minutes) */
  ttlMs?: number;
  /** Clock in milliseconds; replace it in tests. @default Date.now */
  now?: () => number;
}

export type DedupeState = 'new' | 'in-flight' | 'answered';

/** The key of a request within a session: ids are only unique per session. */
export function dedupeKey(sessionId: string, requestId: RequestId): string {
  return `${sessionId}\u0000${requestIdKey(requestId)}`;
}

/**
 * Remembers which requests are running or were recently answered, so a queue's redelivery of a request
 * does not run it twice (PROTOCOL.md §6). Bounded in entries and time, so it never grows without limit.
 */
export class DedupeWindow {
  readonly #entries = new Map<string, { state: 'in-flight' | 'answered'; at: number }>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor({ maxEntries = 10_000, ttlMs = 300_000, now = Date.now }: DedupeWindowOptions = {}) {
    this.#maxEntries = maxEntries;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Marks `key` as running and returns `'new'`, or returns its state if it is already known. */
  begin(key: string): DedupeState {
    const existing = this.#entries.get(key);
    const now = this.#now();
    if (existing) {
      if (existing.state === 'in-flight' || now - existing.at < this.#ttlMs) return existing.state;
      this.#entries.delete(key);
    }
    this.#entries.set(key, { state: 'in-flight', at: now });
    this.#trim();
    return 'new';
  }

  /** The request was answered: remember it for the TTL. */
  complete(key: string): void {
    if (!this.#entries.has(key)) return;
    this.#entries.delete(key);
    this.#entries.set(key, { state: 'answered', at: this.#now() });
    this.#trim();
  }

  /**
   * The request was cancelled before it arrived (a queue does not keep a session's order between a
   * request and its cancellation): remember it as done, so it is skipped when it comes.
   */
  forestall(key: string): void {
    if (this.#entries.has(key)) return;
    this.#entries.set(key, { state: 'answered', at: this.#now() });
    this.#trim();
  }

  /** The request failed before it was answered: forget it so a redelivery runs it again. */
  release(key: string): void {
    this.#entries.delete(key);
  }

  #trim(): void {
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
