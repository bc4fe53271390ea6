import type { JSONRPCErrorResponse, JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

/**
 * The JSON-RPC errors of PROTOCOL.md §5, the only errors that cross the wire. Each factory takes the id
 * of the failed request when it is known, so the peer can match the error to its pending call; without
 * one the id is the literal `"server-error"` that Python asyncmcp peers expect.
 */

export const JsonRpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Used by the MCP SDK for a request that ran out of time. */
  RequestTimeout: -32001,
  /** Used by the MCP SDK when the connection closed under a pending request. */
  ConnectionClosed: -32000,
} as const;

/** The id used when the failed message was not a request (or its id could not be read). */
export const UNKNOWN_REQUEST_ID = 'server-error';

export function jsonRpcError(
  code: number,
  message: string,
  id?: RequestId,
  data?: unknown,
): JSONRPCErrorResponse {
  const error: JSONRPCErrorResponse['error'] =
    data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: '2.0', id: id ?? UNKNOWN_REQUEST_ID, error };
}

export function parseError(detail: string, id?: RequestId): JSONRPCErrorResponse {
  return jsonRpcError(JsonRpcErrorCode.ParseError, `Parse error: ${detail}`, id);
}

export function validationError(detail: string, id?: RequestId): JSONRPCErrorResponse {
  return jsonRpcError(JsonRpcErrorCode.InvalidParams, `Validation error: ${detail}`, id);
}

export function unsupportedProtocolVersionError(
  version: string,
  supported: readonly string[],
  id?: RequestId,
): JSONRPCErrorResponse {
  return jsonRpcError(
    JsonRpcErrorCode.InvalidRequest,
    `Unsupported protocol version: ${version}. Supported versions: ${supported.join(', ')}`,
    id,
  );
}

export function missingSessionIdError(id?: RequestId): JSONRPCErrorResponse {
  return jsonRpcError(JsonRpcErrorCode.InvalidRequest, 'Missing or invalid session ID', id);
}

export function invalidSessionIdFormatError(sessionId: string, id?: RequestId): JSONRPCErrorResponse {
  return jsonRpcError(JsonRpcErrorCode.InvalidRequest, `Invalid session ID format: ${sessionId}`, id);
}

export function sessionNotFoundError(sessionId: string, id?: RequestId): JSONRPCErrorResponse {
  return jsonRpcError(JsonRpcErrorCode.InvalidRequest, `Session not found: ${sessionId}`, id);
}

export function sessionTerminatedError(sessionId: string, id?: RequestId): JSONRPCErrorResponse {
  return jsonRpcError(JsonRpcErrorCode.InvalidRequest, `Session has been terminated: ${sessionId}`, id);
}

/**
 * A session already runs as many requests as it may (`maxInFlightPerSession`): this one is refused at
 * once, not queued, so the client knows to wait for one of its calls to end.
 */
export function sessionBusyError(limit: number, id?: RequestId): JSONRPCErrorResponse {
  return jsonRpcError(
    JsonRpcErrorCode.InternalError,
    `Too many requests running in this session (limit ${limit}): wait for one to finish, then retry`,
    id,
    { reason: 'session-busy', limit },
  );
}

export function internalError(detail: string, id?: RequestId): JSONRPCErrorResponse {
  return jsonRpcError(JsonRpcErrorCode.InternalError, `Internal error: ${detail}`, id);
}

/**
 * The session's server side is gone (its worker stopped or crashed): nothing sent on it will be answered.
 * Same code as the other session errors of PROTOCOL.md §5.
 */
export function sessionLostError(
  sessionId: string | undefined,
  reason: string,
  id?: RequestId,
): JSONRPCErrorResponse {
  return jsonRpcError(
    JsonRpcErrorCode.InvalidRequest,
    `Session lost: ${sessionId ?? '(none)'}: ${reason}; start a new session`,
    id,
  );
}

/** Whether an error answer says the server does not hold the session (not found, terminated, lost). */
export function isSessionGoneError(message: JSONRPCMessage): boolean {
  if (!('error' in message) || message.error.code !== JsonRpcErrorCode.InvalidRequest) return false;
  const text = message.error.message;
  return (
    text.startsWith('Session not found') ||
    text.startsWith('Session has been terminated') ||
    text.startsWith('Session lost')
  );
}
