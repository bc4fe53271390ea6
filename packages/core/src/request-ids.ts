import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

/**
 * A map key for a JSON-RPC request id. `1` and `"1"` are different ids (JSON-RPC keeps the type), so a
 * key made of the text alone would let one answer settle the other's request.
 */
export function requestIdKey(id: RequestId): string {
  return `${typeof id}:${id}`;
}

/** The request id a `notifications/cancelled` names, if `message` is one. */
export function cancelledRequestId(message: JSONRPCMessage): RequestId | undefined {
  if (!('method' in message) || message.method !== 'notifications/cancelled' || 'id' in message)
    return undefined;
  const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId;
  return typeof requestId === 'string' || typeof requestId === 'number' ? requestId : undefined;
}
