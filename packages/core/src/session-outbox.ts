import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from './clock.js';
import { isAnswer, protocolVersionOf } from './codec.js';
import { SESSION_DEFAULTS } from './defaults.js';
import type { SendTarget, Settlement } from './dispatch-contract.js';
import { isUndeliverable } from './dispatch-rejections.js';
import type { DispatcherSession } from './dispatcher-session.js';
import { describeError, isDestinationGone, TransportStateError } from './errors.js';
import { internalError } from './jsonrpc-errors.js';
import { type Logger, sessionLogId } from './logger.js';
import { retryWhileMissing } from './missing-address-grace.js';

export interface SessionOutboxOptions<A> {
  send: (message: JSONRPCMessage, target: SendTarget<A>) => Promise<void>;
  /** @default SESSION_DEFAULTS.missingAddressGraceMs */
  missingAddressGraceMs?: number | undefined;
  clock: Clock;
  logger: Logger;
  /** The live session of an id. */
  sessionOf: (sessionId: string) => DispatcherSession<A> | undefined;
  /** Marks a session active (for idle eviction). */
  touch: (sessionId: string) => void;
  /** Settles a pending request of a session; false when it was not pending. */
  finish: (session: DispatcherSession<A>, requestId: RequestId, settlement: Settlement) => boolean;
  /** Ends a session whose client's every address is gone. */
  clientGone: (session: DispatcherSession<A>, cause: unknown) => void;
}

/**
 * Everything sent to a session's client, and what a failed send means: an address reached before and now
 * missing gets time to be made again, a deleted address moves the session to another its client uses
 * (a fleet of gateways) or ends it, and an answer the channel will never take becomes an error.
 */
export class SessionOutbox<A> {
  readonly #options: SessionOutboxOptions<A>;
  readonly #logger: Logger;

  constructor(options: SessionOutboxOptions<A>) {
    this.#options = options;
    this.#logger = options.logger;
  }

  /** Sends a message of a session's server: an answer, and what comes while a request runs, where that request asked. */
  async fromSession(
    session: DispatcherSession<A>,
    message: JSONRPCMessage,
    options?: TransportSendOptions,
  ): Promise<void> {
    if (session.closed) throw new TransportStateError('closed', 'session');
    this.#options.touch(session.sessionId);
    const version = protocolVersionOf(message);
    if (version !== undefined) session.protocolVersion = version;
    const answeredId = isAnswer(message) ? message.id : undefined;
    const pending = session.pending.get(answeredId);
    const related = session.pending.get(options?.relatedRequestId);
    const target: SendTarget<A> = {
      sessionId: session.sessionId,
      // An answer, and what the server sends while working on a request, go where that request asked.
      address: (pending ?? related)?.address ?? session.address,
      relatedRequestId: options?.relatedRequestId,
    };
    try {
      await this.#sendTo(session, message, target);
    } catch (cause) {
      if (isDestinationGone(cause)) {
        if (this.#followAnotherAddress(session, target.address)) {
          if (pending) this.#options.finish(session, answeredId as RequestId, 'failed');
          throw cause;
        }
        // The client's queue or topic was deleted (its gateway stopped for good): nobody will read this
        // session again, so its server and child process end now rather than at the idle timeout.
        this.#options.clientGone(session, cause);
        throw cause;
      }
      if (answeredId === undefined || !isUndeliverable(cause)) {
        if (pending) this.#options.finish(session, answeredId as RequestId, 'failed');
        throw cause;
      }
      // An answer the channel will never take (too large, refused contents) becomes an error the
      // requester can match: retrying would fail the same way, and dropping it would hang the caller.
      this.#logger.warn(
        { sessionId: sessionLogId(session.sessionId), requestId: answeredId, err: describeError(cause) },
        'answer cannot be delivered; sending an error instead',
      );
      try {
        await this.#options.send(internalError(describeError(cause), answeredId), target);
      } catch (again) {
        if (pending) this.#options.finish(session, answeredId, 'failed');
        throw again;
      }
    }
    if (pending) this.#options.finish(session, answeredId as RequestId, 'answered');
  }

  /** Sends to an address of the session; one it reached before gets time to be made again if missing. */
  async #sendTo(
    session: DispatcherSession<A>,
    message: JSONRPCMessage,
    target: SendTarget<A>,
  ): Promise<void> {
    const graceMs = session.reached.has(target.address)
      ? (this.#options.missingAddressGraceMs ?? SESSION_DEFAULTS.missingAddressGraceMs)
      : 0;
    await retryWhileMissing(() => this.#options.send(message, target), {
      graceMs,
      clock: this.#options.clock,
    });
    session.reached.add(target.address);
  }

  /** `DispatcherSession.followAnotherAddress`, said in the log when the session's messages move. */
  #followAnotherAddress(session: DispatcherSession<A>, gone: A): boolean {
    const listening = gone === session.address;
    if (!session.followAnotherAddress(gone)) return false;
    if (listening) {
      this.#logger.info(
        { sessionId: sessionLogId(session.sessionId) },
        "the session's listening address no longer exists; its messages go where its last request came from",
      );
    }
    return true;
  }

  /** Sends what the dispatcher itself says (an error, a farewell); false, logged, when it could not. */
  async trySend(message: JSONRPCMessage, sessionId: string, address: A): Promise<boolean> {
    const session = this.#options.sessionOf(sessionId);
    try {
      const target = { sessionId, address };
      await (session ? this.#sendTo(session, message, target) : this.#options.send(message, target));
      return true;
    } catch (cause) {
      if (session && isDestinationGone(cause)) {
        if (!this.#followAnotherAddress(session, address)) this.#options.clientGone(session, cause);
        return false;
      }
      this.#logger.error(
        { sessionId: sessionLogId(sessionId), err: describeError(cause) },
        'could not send an error to the client',
      );
      return false;
    }
  }
}
