import type { JSONRPCMessage, JSONRPCNotification } from '@modelcontextprotocol/sdk/types.js';

/**
 * Ours, optional: the notification a client sends when it is done with a session, so the server can end
 * it at once instead of waiting for idle eviction (async transports have no connection whose closing
 * says so, and PROTOCOL.md §1 has no message for it). Servers that do not know it ignore it, as MCP
 * servers ignore unknown notifications.
 */
export const TERMINATE_SESSION_METHOD = 'notifications/asyncmcp/terminate';

export function terminateSessionNotification(): JSONRPCNotification {
  return { jsonrpc: '2.0', method: TERMINATE_SESSION_METHOD };
}

export function isTerminateSessionNotification(message: JSONRPCMessage): boolean {
  return 'method' in message && !('id' in message) && message.method === TERMINATE_SESSION_METHOD;
}
