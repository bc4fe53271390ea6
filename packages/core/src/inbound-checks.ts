import type { JSONRPCErrorResponse, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { RejectReason } from './dispatch-contract.js';
import { Attribute } from './envelope.js';
import {
  invalidSessionIdFormatError,
  JsonRpcErrorCode,
  missingSessionIdError,
  unsupportedProtocolVersionError,
} from './jsonrpc-errors.js';
import { isValidSessionId } from './session-id.js';

/*
 * The checks every dispatcher makes of an inbound message before it looks for a session or a server, so
 * that `SessionDispatcher` and `StatelessDispatcher` refuse the same message with the same error.
 */

/** Why a message is refused: the reason the caller is told, the error its sender gets, and the log's words. */
export interface InboundProblem {
  reason: RejectReason;
  error: JSONRPCErrorResponse;
  what: string;
}

/** A message that did not decode: unparseable, or not JSON-RPC. */
export function malformedMessage(error: JSONRPCErrorResponse): InboundProblem {
  const reason = error.error.code === JsonRpcErrorCode.ParseError ? 'parse' : 'validation';
  return { reason, error, what: 'malformed message' };
}

/** A `ProtocolVersion` attribute naming a version this server does not speak. */
export function protocolVersionProblem(
  attributes: Readonly<Record<string, string>>,
  supported: readonly string[],
  requestId: RequestId | undefined,
): InboundProblem | undefined {
  const version = attributes[Attribute.ProtocolVersion];
  if (version === undefined || supported.includes(version)) return undefined;
  return {
    reason: 'protocol-version',
    error: unsupportedProtocolVersionError(version, supported, requestId),
    what: 'unsupported protocol version',
  };
}

/** The session a message other than `initialize` names, or why it names none that could exist. */
export function checkSessionClaim(
  claimed: string | undefined,
  requestId: RequestId | undefined,
): { sessionId: string } | { problem: InboundProblem } {
  if (claimed === undefined || claimed === '') {
    return {
      problem: { reason: 'missing-session', error: missingSessionIdError(requestId), what: 'no session id' },
    };
  }
  if (isValidSessionId(claimed)) return { sessionId: claimed };
  const error = invalidSessionIdFormatError(claimed, requestId);
  return { problem: { reason: 'invalid-session', error, what: 'bad session id' } };
}
