/**
 * What a Python asyncmcp 0.2.x peer writes, for the wire-compatibility tests that play that peer by hand:
 * bodies as Python's `json.dumps` writes them and the message attributes its transports put on them.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** `json.dumps(value)` with Python's defaults: `", "` and `": "` separators, `ensure_ascii=True`. */
export function pyDumps(value: Json): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return JSON.stringify(value);
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  if (Array.isArray(value)) return `[${value.map(pyDumps).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([key, item]) => `${pyDumps(key)}: ${pyDumps(item)}`)
    .join(', ')}}`;
}

/** A message attribute as SQS and SNS both take it on send and publish. */
export interface PyAttributeValue {
  DataType: string;
  StringValue: string;
}

export type PyAttributes = Record<string, PyAttributeValue>;

const str = (value: string): PyAttributeValue => ({ DataType: 'String', StringValue: value });

/** Unix seconds as Python's `str(int(time.time()))`. */
export const nowSeconds = (): string => String(Math.floor(Date.now() / 1000));

/** The attributes Python's `create_common_client_message_attributes` puts on a client message. */
export function pyClientAttributes(input: {
  method?: string;
  id?: string | number;
  sessionId?: string;
  clientId?: string;
  protocolVersion?: string;
}): PyAttributes {
  const attributes: PyAttributes = {
    MessageType: str('jsonrpc'),
    Timestamp: { DataType: 'Number', StringValue: nowSeconds() },
  };
  if (input.method !== undefined && input.id !== undefined) {
    attributes.RequestId = str(String(input.id));
    attributes.Method = str(input.method);
  } else if (input.method !== undefined) {
    attributes.Method = str(input.method);
  }
  if (input.sessionId) attributes.SessionId = str(input.sessionId);
  if (input.clientId) attributes.ClientId = str(input.clientId);
  if (input.protocolVersion) attributes.ProtocolVersion = str(input.protocolVersion);
  return attributes;
}

/** The attributes a Python asyncmcp server puts on a server→client message. */
export function pyServerAttributes(sessionId: string): PyAttributes {
  return {
    MessageType: str('jsonrpc'),
    Timestamp: { DataType: 'Number', StringValue: nowSeconds() },
    SessionId: str(sessionId),
  };
}

/**
 * `initialize` as the Python MCP client sends it, with the `_meta` asyncmcp adds: where to answer
 * (`responseQueueUrl` over SQS, `clientTopicArn` over SNS+SQS) beside a key of its own it must keep.
 */
export function pyInitialize(id: string | number, replyTo: Record<string, string>): string {
  return pyDumps({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: { sampling: {}, roots: { listChanged: true } },
      clientInfo: { name: 'mcp', version: '0.1.0' },
      _meta: { ...replyTo, other: 'kept' },
    },
  });
}

export const PY_SERVER_INFO = { name: 'py-server', version: '0.2.1' };

/** The initialize result a Python asyncmcp server (MCP Python SDK) writes, with json.dumps spacing. */
export function pyInitializeResult(id: string | number, protocolVersion: string): string {
  return pyDumps({
    jsonrpc: '2.0',
    id,
    result: {
      protocolVersion,
      capabilities: { experimental: {}, tools: { listChanged: false } },
      serverInfo: PY_SERVER_INFO,
    },
  });
}

/** A Python client's call of the test servers' `echo` tool. */
export function pyToolCall(id: string | number, text: string): string {
  return pyDumps({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });
}

/** Whether text is JSON as `JSON.stringify` writes it (no spaces), as our side always sends. */
export function isCompactJson(text: string): boolean {
  return text === JSON.stringify(JSON.parse(text));
}

/** The fields of a JSON-RPC message a test reads off the wire. */
export interface JsonRpcSeen {
  jsonrpc?: string;
  id?: string | number;
  method?: string;
  params?: Record<string, unknown> & { _meta?: Record<string, unknown> };
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** A Python client's `tools/list` (id 7) in `sessionId` naming a protocol version no server supports. */
export function pyUnsupportedVersionRequest(sessionId: string) {
  return {
    body: pyDumps({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
    attributes: pyClientAttributes({
      method: 'tools/list',
      id: 7,
      sessionId,
      clientId: 'py-client',
      protocolVersion: '1999-01-01',
    }),
  };
}
