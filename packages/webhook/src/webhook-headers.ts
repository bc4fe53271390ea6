import type { IncomingHttpHeaders } from 'node:http';
import {
  Attribute,
  isNotification,
  isRequest,
  type JSONRPCMessage,
  type MessageAttributes,
  type RequestId,
} from '@asyncmcp/core';

/** The HTTP headers of PROTOCOL.md §3–§4. Node lowercases incoming names; we send them as spelled here. */
export const WebhookHeader = {
  ClientId: 'X-Client-ID',
  SessionId: 'X-Session-ID',
  RequestId: 'X-Request-ID',
  Method: 'X-Method',
  ProtocolVersion: 'X-Protocol-Version',
  /**
   * Ours, optional: on a server→client notification or request, the id of the client request it belongs
   * to (progress, logging, sampling during a tool call), like the `RelatedRequestId` attribute of §1.
   * Python peers ignore it.
   */
  RelatedRequestId: 'X-Related-Request-ID',
  /** The hybrid (§4) names the session as Streamable HTTP does. */
  McpSessionId: 'mcp-session-id',
} as const;

/** Envelope attribute → header, for what a client sends (MessageType and Timestamp have no header). */
const CLIENT_HEADER_OF: Readonly<Record<string, string>> = {
  [Attribute.ClientId]: WebhookHeader.ClientId,
  [Attribute.SessionId]: WebhookHeader.SessionId,
  [Attribute.RequestId]: WebhookHeader.RequestId,
  [Attribute.Method]: WebhookHeader.Method,
  [Attribute.ProtocolVersion]: WebhookHeader.ProtocolVersion,
};

/**
 * The §3 client→server headers, from the envelope core's `ClientSessionState` builds: the handshake state
 * (client id, session id, negotiated version) is the same for every transport; only its spelling differs.
 */
export function headersFromAttributes(attributes: Readonly<MessageAttributes>): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  for (const [name, value] of Object.entries(attributes)) {
    const header = CLIENT_HEADER_OF[name];
    if (header !== undefined) headers[header] = value;
  }
  return headers;
}

/** `X-Request-ID` + `X-Method` on a request, `X-Method` on a notification, nothing on an answer. */
export function messageHeaders(message: JSONRPCMessage): Record<string, string> {
  if (isRequest(message)) {
    return { [WebhookHeader.RequestId]: String(message.id), [WebhookHeader.Method]: message.method };
  }
  if (isNotification(message)) return { [WebhookHeader.Method]: message.method };
  return {};
}

/** The headers of a server→client POST of PROTOCOL.md §3. */
export function serverMessageHeaders(
  message: JSONRPCMessage,
  sessionId: string,
  relatedRequestId?: RequestId,
): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    [WebhookHeader.SessionId]: sessionId,
    ...messageHeaders(message),
  };
  if (relatedRequestId !== undefined && !('result' in message || 'error' in message)) {
    headers[WebhookHeader.RelatedRequestId] = String(relatedRequestId);
  }
  return headers;
}

/**
 * The envelope attributes of a client→server POST, read back from its headers, in the shape core's
 * `SessionDispatcher` routes on.
 */
export function attributesFromHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const attributes: Record<string, string> = {};
  const read = (name: string): string | undefined => {
    const value = headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  };
  const sessionId = read(WebhookHeader.SessionId);
  const clientId = read(WebhookHeader.ClientId);
  const version = read(WebhookHeader.ProtocolVersion);
  if (sessionId !== undefined && sessionId !== '') attributes[Attribute.SessionId] = sessionId;
  if (clientId !== undefined && clientId !== '') attributes[Attribute.ClientId] = clientId;
  if (version !== undefined && version !== '') attributes[Attribute.ProtocolVersion] = version;
  return attributes;
}
