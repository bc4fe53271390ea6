import { type RequestId, requestIdKey } from '@asyncmcp/core';

/**
 * The requests a client transport sent and the answers it has handed on. An answer can reach a webhook
 * client twice — by webhook and as the error body of the HTTP reply, or (hybrid) by webhook and on the
 * SSE stream after a fallback — and the SDK must see it once. Bounded: it remembers the last `memory`
 * answered ids.
 */
export class AnswerLedger {
  readonly #pending = new Map<string, RequestId>();
  readonly #answered = new Set<string>();
  readonly #memory: number;

  constructor(memory = 1000) {
    this.#memory = memory;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  sent(id: RequestId): void {
    this.#pending.set(requestIdKey(id), id);
  }

  /** The request never reached the server: nothing will answer it. */
  abandoned(id: RequestId): void {
    this.#pending.delete(requestIdKey(id));
  }

  /**
   * Whether an answer with this id should be handed on: yes the first time, no for a repeat. Ids this
   * client never sent (an error with the id `server-error`, say) are handed on; the SDK reports them.
   */
  take(id: RequestId): boolean {
    const k = requestIdKey(id);
    if (this.#pending.delete(k)) {
      this.#answered.add(k);
      if (this.#answered.size > this.#memory) {
        const oldest = this.#answered.values().next().value;
        if (oldest !== undefined) this.#answered.delete(oldest);
      }
      return true;
    }
    return !this.#answered.has(k);
  }

  /** The pending request whose id is `text` as a header spells it, if any. */
  pendingByText(text: string | undefined): RequestId | undefined {
    if (text === undefined) return undefined;
    const byString = this.#pending.get(requestIdKey(text));
    if (byString !== undefined) return byString;
    // Only a number that a header spells exactly so: `01` names no numeric id.
    const number = Number(text);
    return String(number) === text ? this.#pending.get(requestIdKey(number)) : undefined;
  }
}
