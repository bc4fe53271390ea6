/**
 * Sessions bound to the identity that opened them (SQS's `SenderId`, which the queue service sets from
 * the sender's credentials and no sender can choose): once a session's `initialize` came from one
 * sender, a message of that session from any other sender is refused. Someone who may send to the
 * queue, but under other credentials, cannot then act in a session that is not theirs, signed or not.
 */
export class SenderBinding {
  /** Session id → the SenderId of the message that opened it. */
  readonly #senders = new Map<string, string>();

  /** Whether a message naming `sessionId`, sent by `senderId`, may reach that session. */
  admits(sessionId: string | undefined, senderId: string | undefined): boolean {
    if (sessionId === undefined) return true;
    const bound = this.#senders.get(sessionId);
    return bound === undefined || bound === senderId;
  }

  /** Binds a session to its first accepted message's sender (its `initialize`); later calls keep it. */
  bind(sessionId: string, senderId: string | undefined): void {
    if (senderId !== undefined && !this.#senders.has(sessionId)) this.#senders.set(sessionId, senderId);
  }

  forget(sessionId: string): void {
    this.#senders.delete(sessionId);
  }

  get size(): number {
    return this.#senders.size;
  }
}
