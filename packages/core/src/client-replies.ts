import type {
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCResultResponse,
} from '@modelcontextprotocol/sdk/types.js';
import type { SendTarget } from './dispatch-contract.js';
import { AsyncMcpError, AsyncMcpErrorCode, describeError } from './errors.js';
import { internalError } from './jsonrpc-errors.js';
import { type Logger, sessionLogId } from './logger.js';

/**
 * Sends what a dispatcher answers clients with, turning send failures into what the queue should do:
 * an answer counts as given once sent; one the channel will never take is replaced by an error; one
 * that failed for now leaves its request to be delivered again.
 */
export class ClientReplies<A> {
  readonly #send: (message: JSONRPCMessage, target: SendTarget<A>) => Promise<void>;
  readonly #logger: Logger;

  constructor(send: (message: JSONRPCMessage, target: SendTarget<A>) => Promise<void>, logger: Logger) {
    this.#send = send;
    this.#logger = logger;
  }

  /** Sends one message (an error, mostly); false, with a log line, when it could not be sent. */
  async trySend(message: JSONRPCMessage, target: SendTarget<A>): Promise<boolean> {
    try {
      await this.#send(message, target);
      return true;
    } catch (cause) {
      this.#logger.error(
        { sessionId: sessionLogId(target.sessionId), err: describeError(cause) },
        'could not send a message to the client',
      );
      return false;
    }
  }

  /** Sends an answer: `'answered'` once sent, `'failed'` when the queue should deliver the request again. */
  async answer(
    answer: JSONRPCResultResponse | JSONRPCErrorResponse,
    target: SendTarget<A>,
  ): Promise<'answered' | 'failed'> {
    try {
      await this.#send(answer, target);
      return 'answered';
    } catch (cause) {
      const fields = {
        sessionId: sessionLogId(target.sessionId),
        requestId: answer.id,
        err: describeError(cause),
      };
      if (!isUndeliverable(cause)) {
        this.#logger.warn(fields, 'answer not sent; the request will be delivered again');
        return 'failed';
      }
      // An answer the channel will never take becomes an error the requester can match: retrying would
      // fail the same way, and dropping it would hang the caller.
      this.#logger.warn(fields, 'answer cannot be delivered; sending an error instead');
      const sent = await this.trySend(internalError(describeError(cause), answer.id), target);
      return sent ? 'answered' : 'failed';
    }
  }
}

/** Too large, or refused by the channel for good (a retryable failure is retried instead). */
function isUndeliverable(error: unknown): boolean {
  if (!AsyncMcpError.isInstance(error)) return false;
  return error.code === AsyncMcpErrorCode.MessageTooLarge || !error.isRetryable;
}
