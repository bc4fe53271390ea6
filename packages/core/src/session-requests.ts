import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from './clock.js';
import { DedupeWindow, type DedupeWindowOptions, dedupeKey } from './dedupe-window.js';
import { SESSION_DEFAULTS } from './defaults.js';
import type { Settlement } from './dispatch-contract.js';
import type { DispatcherSession } from './dispatcher-session.js';
import { type Logger, sessionLogId } from './logger.js';

export interface SessionRequestsOptions {
  /** @default SESSION_DEFAULTS.maxInFlightPerSession (32) */
  maxInFlightPerSession?: number | undefined;
  dedupe?: DedupeWindowOptions | undefined;
  clock: Clock;
  logger: Logger;
}

/** How a request fared on its way into its session. */
export type RequestAdmission =
  | { kind: 'started'; settled: Promise<Settlement> }
  /** Already running or answered here: its earlier delivery's settlement stands for it. */
  | { kind: 'duplicate'; settled: Promise<Settlement> }
  /** The session already runs `limit` requests. */
  | { kind: 'busy'; limit: number };

/**
 * The requests running in a dispatcher's sessions: each starts once however often it is delivered, a
 * session runs at most `maxInFlightPerSession` at a time, and each is settled exactly once (answered,
 * cancelled, failed, or ended with its session), which tells the dedupe window whether a redelivery
 * may run it again.
 */
export class SessionRequests {
  readonly #dedupe: DedupeWindow;
  readonly #limit: number;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(options: SessionRequestsOptions) {
    this.#dedupe = new DedupeWindow(options.dedupe);
    this.#limit = options.maxInFlightPerSession ?? SESSION_DEFAULTS.maxInFlightPerSession;
    this.#clock = options.clock;
    this.#logger = options.logger;
  }

  /** Starts a request in its session, answered at `address`, unless it is a redelivery or one too many. */
  begin<A>(session: DispatcherSession<A>, requestId: RequestId, address: A): RequestAdmission {
    if (session.pending.size >= this.#limit && !session.pending.has(requestId)) {
      return { kind: 'busy', limit: this.#limit };
    }
    const key = dedupeKey(session.sessionId, requestId);
    const state = this.#dedupe.begin(key);
    if (state !== 'new') {
      this.#logger.info(
        { sessionId: sessionLogId(session.sessionId), requestId, state },
        'redelivered request skipped',
      );
      const pending = session.pending.get(requestId);
      const settled = pending
        ? pending.settled.then(() => 'duplicate' as const)
        : Promise.resolve('duplicate');
      return { kind: 'duplicate', settled: settled as Promise<Settlement> };
    }
    const settled = session.pending.begin(requestId, {
      dedupeKey: key,
      startedAt: this.#clock.now(),
      address,
    });
    return { kind: 'started', settled };
  }

  /** Settles a running request; false when it was not running. */
  finish<A>(session: DispatcherSession<A>, requestId: RequestId, settlement: Settlement): boolean {
    const pending = session.pending.take(requestId);
    if (!pending) return false;
    // A failed request may run again when redelivered; any other end is final.
    if (settlement === 'failed') this.#dedupe.release(pending.dedupeKey);
    else this.#dedupe.complete(pending.dedupeKey);
    pending.settle(settlement);
    return true;
  }

  /**
   * The client cancelled a request. The server answers a cancelled request with nothing, so it ends
   * here; one not running yet (the cancellation overtook it) is kept from starting.
   */
  cancel<A>(session: DispatcherSession<A>, requestId: RequestId): void {
    if (!this.finish(session, requestId, 'cancelled')) {
      this.#dedupe.forestall(dedupeKey(session.sessionId, requestId));
    }
  }

  /** Settles every request of a session that ends. */
  endAll<A>(session: DispatcherSession<A>): void {
    for (const pending of session.pending.takeAll()) {
      this.#dedupe.complete(pending.dedupeKey);
      pending.settle('session-closed');
    }
  }
}
