import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Settlement } from './dispatch-contract.js';
import { requestIdKey } from './request-ids.js';

/** A request handed to a session's server and not answered yet. */
export interface PendingRequest<A> {
  settle: (settlement: Settlement) => void;
  settled: Promise<Settlement>;
  dedupeKey: string;
  startedAt: number;
  /** Where its answer goes: the address the request named, else the session's. */
  address: A;
}

/**
 * One session's pending requests, by request id. Each is settled exactly once: by its answer, its
 * cancellation, a failed send, or the session's end, whichever comes first takes it out of here.
 */
export class PendingRequests<A> {
  readonly #byId = new Map<string, PendingRequest<A>>();

  get size(): number {
    return this.#byId.size;
  }

  has(id: RequestId): boolean {
    return this.#byId.has(requestIdKey(id));
  }

  get(id: RequestId | undefined): PendingRequest<A> | undefined {
    return id === undefined ? undefined : this.#byId.get(requestIdKey(id));
  }

  values(): IterableIterator<PendingRequest<A>> {
    return this.#byId.values();
  }

  /** Records a request as running; the promise resolves when it is settled. */
  begin(id: RequestId, request: Omit<PendingRequest<A>, 'settle' | 'settled'>): Promise<Settlement> {
    let settle!: (settlement: Settlement) => void;
    const settled = new Promise<Settlement>((resolve) => {
      settle = resolve;
    });
    this.#byId.set(requestIdKey(id), { ...request, settle, settled });
    return settled;
  }

  /** Takes a request out to be settled; undefined when it was not pending. */
  take(id: RequestId): PendingRequest<A> | undefined {
    const key = requestIdKey(id);
    const pending = this.#byId.get(key);
    this.#byId.delete(key);
    return pending;
  }

  /** Takes every request out, for a session that ends. */
  takeAll(): PendingRequest<A>[] {
    const all = [...this.#byId.values()];
    this.#byId.clear();
    return all;
  }

  /** Whether a request still running started at or before `time`. */
  startedBy(time: number): boolean {
    for (const pending of this.#byId.values()) if (pending.startedAt <= time) return true;
    return false;
  }
}
