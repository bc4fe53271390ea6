import {
  isAnswer,
  isInitializeResult,
  type JSONRPCMessage,
  type RequestId,
  requestIdKey,
  type SessionDispatcher,
  sessionAliveNotification,
  systemClock,
  unrefTimer,
  WORKER_META_KEY,
  type WorkerHint,
  withResultMeta,
} from '@asyncmcp/core';
import { SQS_WORKER_DEFAULTS } from './sqs-defaults.js';

/**
 * What a worker with an inbox tells the clients of its sessions about itself: where to send a session's
 * later messages (on the `initialize` answer, and on an adoption ping's, PROTOCOL.md §7b), and, while
 * their requests run, that it is alive. Only clients that use the inbox hear of liveness: they know our
 * extensions.
 */
export class WorkerHints {
  readonly #aliveIntervalSeconds: number;
  readonly #stats: { aliveSent: number };
  /** Sessions whose client sends to the inbox. */
  readonly #usingInbox = new Set<string>();
  /** Answers that carry the hint besides `initialize`'s: to adoption pings, by session and id. */
  readonly #adoptionAnswers = new Set<string>();
  #stopTicker: (() => void) | undefined;

  constructor(options: { aliveIntervalSeconds?: number | undefined; stats: { aliveSent: number } }) {
    this.#aliveIntervalSeconds = options.aliveIntervalSeconds ?? SQS_WORKER_DEFAULTS.aliveIntervalSeconds;
    this.#stats = options.stats;
  }

  /**
   * `message` with the hint when it is an answer that carries one (and there is an inbox to name); the
   * very same object otherwise, so a caller can tell.
   */
  withHint<M extends JSONRPCMessage>(message: M, sessionId: string, inbox: string | undefined): M {
    if (inbox === undefined) return message;
    const adopted =
      isAnswer(message) &&
      message.id !== undefined &&
      this.#adoptionAnswers.delete(answerKey(sessionId, message.id));
    if (!adopted && !isInitializeResult(message)) return message;
    const hint: WorkerHint = { inbox, aliveIntervalSeconds: this.#aliveIntervalSeconds };
    return withResultMeta(message, { [WORKER_META_KEY]: hint });
  }

  /** The answer to this adoption ping names where the session is, as `initialize`'s does. */
  hintOnAnswer(sessionId: string, id: RequestId): void {
    this.#adoptionAnswers.add(answerKey(sessionId, id));
  }

  /** The session's client sent to the inbox. */
  usesInbox(sessionId: string): void {
    this.#usingInbox.add(sessionId);
  }

  isUsingInbox(sessionId: string): boolean {
    return this.#usingInbox.has(sessionId);
  }

  forget(sessionId: string): void {
    this.#usingInbox.delete(sessionId);
    for (const key of this.#adoptionAnswers) {
      if (key.startsWith(`${sessionId}\0`)) this.#adoptionAnswers.delete(key);
    }
  }

  /**
   * Tells the clients of requests that have run for half an interval or more that this worker is still
   * at it: a long tool is not a dead worker. Quick calls cost nothing.
   */
  startAliveTicker(dispatcher: Pick<SessionDispatcher<string>, 'sessionsBusyFor' | 'notify'>): void {
    const intervalMs = this.#aliveIntervalSeconds * 1000;
    const tick = () => {
      for (const sessionId of dispatcher.sessionsBusyFor(intervalMs / 2)) {
        if (!this.#usingInbox.has(sessionId)) continue;
        this.#stats.aliveSent++;
        void dispatcher.notify(sessionId, sessionAliveNotification());
      }
      this.#stopTicker = schedule();
    };
    const schedule = () => {
      const timer = unrefTimer(systemClock, tick, intervalMs);
      return () => systemClock.clearTimeout(timer);
    };
    this.#stopTicker = schedule();
  }

  stop(): void {
    this.#stopTicker?.();
  }
}

function answerKey(sessionId: string, id: RequestId): string {
  return `${sessionId}\0${requestIdKey(id)}`;
}
