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

/**
 * Ours (PROTOCOL.md §8, version 2), server→client: the worker running a request of this session is
 * alive. Sent while a request runs longer than the worker's `aliveIntervalSeconds`, only to clients that
 * use the worker's inbox (they know the name); carries nothing else.
 */
export const SESSION_ALIVE_METHOD = 'notifications/asyncmcp/alive';

/**
 * Ours (PROTOCOL.md §8, version 2), server→client: the session is over on the server's side (its worker
 * is stopping). `params.reason` says why; the client fails what is pending with it and starts over.
 */
export const SESSION_ENDED_METHOD = 'notifications/asyncmcp/ended';

export function sessionAliveNotification(): JSONRPCNotification {
  return { jsonrpc: '2.0', method: SESSION_ALIVE_METHOD };
}

export function sessionEndedNotification(reason: string): JSONRPCNotification {
  return { jsonrpc: '2.0', method: SESSION_ENDED_METHOD, params: { reason } };
}

/** The reason of a `notifications/asyncmcp/ended`, or undefined if `message` is not one. */
export function sessionEndedReason(message: JSONRPCMessage): string | undefined {
  if (!('method' in message) || 'id' in message || message.method !== SESSION_ENDED_METHOD) return undefined;
  const reason = (message.params as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' && reason !== '' ? reason : 'the server ended the session';
}

export function isSessionAliveNotification(message: JSONRPCMessage): boolean {
  return 'method' in message && !('id' in message) && message.method === SESSION_ALIVE_METHOD;
}

/**
 * Ours (PROTOCOL.md §7b, version 3), client→server: the session's messages that belong to no request
 * (notifications, server→client requests) go to the address in this notification's `_meta` from now on
 * (`responseQueueUrl`, `clientTopicArn`, `webhookUrl`, as in `initialize`). A gateway instance sends it
 * when a client opens its GET stream there, so those messages reach the stream on whichever instance
 * holds it. Servers that do not know it ignore it and keep the address of `initialize`.
 */
export const SESSION_LISTENING_METHOD = 'notifications/asyncmcp/listening';

export function sessionListeningNotification(meta: Readonly<Record<string, string>>): JSONRPCNotification {
  return { jsonrpc: '2.0', method: SESSION_LISTENING_METHOD, params: { _meta: { ...meta } } };
}

export function isSessionListeningNotification(message: JSONRPCMessage): message is JSONRPCNotification {
  return 'method' in message && !('id' in message) && message.method === SESSION_LISTENING_METHOD;
}
