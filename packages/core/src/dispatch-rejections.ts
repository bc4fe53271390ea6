import type { JSONRPCErrorResponse, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { DispatcherStats, DispatchResult, RejectReason } from './dispatch-contract.js';
import { AsyncMcpError, AsyncMcpErrorCode, DestinationRefusedError } from './errors.js';
import { JsonRpcErrorCode, jsonRpcError } from './jsonrpc-errors.js';
import { type Logger, sessionLogId } from './logger.js';

/** Counts a rejected message and builds what the dispatcher hands back for it. */
export function rejected<A>(
  stats: Pick<DispatcherStats, 'rejected'>,
  reason: RejectReason,
  error: JSONRPCErrorResponse,
  replied: boolean,
  sessionId: string | undefined,
): DispatchResult<A> {
  stats.rejected++;
  return { status: 'rejected', reason, error, replied, sessionId };
}

/** The log line of a rejected message: `what` says why, in words. */
export function logRejection(
  logger: Logger,
  what: string,
  rejection: {
    reason: RejectReason;
    error: JSONRPCErrorResponse;
    sessionId: string | undefined;
    replied: boolean;
  },
): void {
  const fields = {
    reason: rejection.reason,
    sessionId: sessionLogId(rejection.sessionId),
    code: rejection.error.error.code,
    detail: rejection.error.error.message,
    replied: rejection.replied,
  };
  logger.warn(fields, `message rejected: ${what}`);
}

/** Too large, or refused by the channel for good (a retryable failure is retried instead). */
export function isUndeliverable(error: unknown): boolean {
  if (!AsyncMcpError.isInstance(error)) return false;
  return error.code === AsyncMcpErrorCode.MessageTooLarge || !error.isRetryable;
}

/** `addressOf`, with a refused destination reported instead of thrown. */
export function readAddress<A>(
  addressOf: (request: JSONRPCRequest, attributes: Readonly<Record<string, string>>) => A | undefined,
  request: JSONRPCRequest,
  attributes: Readonly<Record<string, string>>,
): { address: A | undefined } | { refused: DestinationRefusedError } {
  try {
    return { address: addressOf(request, attributes) };
  } catch (error) {
    if (error instanceof DestinationRefusedError) return { refused: error };
    throw error;
  }
}

/** Logs a refused destination (it names no secret) and builds the rejection; nothing is sent. */
export function refusedDestination<R>(
  logger: Logger,
  refused: DestinationRefusedError,
  sessionId: string | undefined,
  requestId: RequestId | undefined,
  reject: (error: JSONRPCErrorResponse) => R,
): R {
  logger.warn(
    { reason: 'refused-destination', sessionId, requestId, detail: refused.message },
    'message rejected: it names a response destination this server does not send to',
  );
  return reject(jsonRpcError(JsonRpcErrorCode.InvalidRequest, refused.message, requestId));
}
