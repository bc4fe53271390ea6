import { randomBytes } from 'node:crypto';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { dedupeKey } from './dedupe-window.js';
import type { Settlement } from './dispatch-contract.js';
import type { PooledServer } from './pooled-server.js';

/** A client request forwarded to a pooled server, until it settles. */
export interface RunningRequest<A> {
  /** The id the server sees: unique in this process, since clients' ids collide across sessions. */
  readonly internalId: string;
  readonly originalId: RequestId;
  readonly method: string;
  readonly sessionId: string;
  readonly address: A;
  readonly server: PooledServer;
  /** `dedupeKey(sessionId, originalId)`: also how a cancellation finds the request. */
  readonly dedupeKey: string;
  readonly startedAt: number;
  readonly settled: Promise<Settlement>;
  readonly settle: (settlement: Settlement) => void;
}

export type NewRunningRequest<A> = Omit<RunningRequest<A>, 'internalId' | 'dedupeKey' | 'settled' | 'settle'>;

/**
 * The requests a stateless dispatcher is running, found by the id the server sees (its answers and
 * notifications), by session and client id (cancellations, redeliveries), and by server (a crash).
 * Like `RequestCorrelator`'s id rewriting, but it keeps nothing per session once a request is gone:
 * a stateless worker sees an unbounded stream of sessions and is never told one has ended.
 */
export class RunningRequests<A> {
  readonly #prefix = `stateless-${randomBytes(4).toString('hex')}`;
  #counter = 0;
  readonly #byInternalId = new Map<string, RunningRequest<A>>();
  readonly #byClientKey = new Map<string, RunningRequest<A>>();

  get size(): number {
    return this.#byInternalId.size;
  }

  values(): IterableIterator<RunningRequest<A>> {
    return this.#byInternalId.values();
  }

  add(fields: NewRunningRequest<A>): RunningRequest<A> {
    let settle!: (settlement: Settlement) => void;
    const settled = new Promise<Settlement>((resolve) => {
      settle = resolve;
    });
    const running: RunningRequest<A> = {
      ...fields,
      internalId: `${this.#prefix}-${++this.#counter}`,
      dedupeKey: dedupeKey(fields.sessionId, fields.originalId),
      settled,
      settle,
    };
    this.#byInternalId.set(running.internalId, running);
    this.#byClientKey.set(running.dedupeKey, running);
    return running;
  }

  /** The request the server knows by `internalId` (an answer's id, a notification's related id). */
  byInternalId(internalId: RequestId | undefined): RunningRequest<A> | undefined {
    return typeof internalId === 'string' ? this.#byInternalId.get(internalId) : undefined;
  }

  /** The request a client knows by `requestId` in `sessionId`. */
  find(sessionId: string, requestId: RequestId): RunningRequest<A> | undefined {
    return this.#byClientKey.get(dedupeKey(sessionId, requestId));
  }

  onServer(server: PooledServer): RunningRequest<A>[] {
    return [...this.#byInternalId.values()].filter((running) => running.server === server);
  }

  /** Forgets a request; false when it was already gone (it settled another way first). */
  remove(running: RunningRequest<A>): boolean {
    if (this.#byInternalId.get(running.internalId) !== running) return false;
    this.#byInternalId.delete(running.internalId);
    if (this.#byClientKey.get(running.dedupeKey) === running) this.#byClientKey.delete(running.dedupeKey);
    return true;
  }
}
