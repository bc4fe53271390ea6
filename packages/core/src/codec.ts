import {
  type JSONRPCErrorResponse,
  JSONRPCErrorResponseSchema,
  type JSONRPCMessage,
  type JSONRPCNotification,
  JSONRPCNotificationSchema,
  type JSONRPCRequest,
  JSONRPCRequestSchema,
  type JSONRPCResultResponse,
  JSONRPCResultResponseSchema,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { parseError, validationError } from './jsonrpc-errors.js';

/**
 * Text ⇄ JSON-RPC message. This module is one of the few places in core that touches the SDK at run
 * time: validation uses the SDK's own schemas so that what we accept is exactly what the SDK accepts.
 */

export type MessageKind = 'request' | 'notification' | 'response' | 'error';

export type DecodeResult =
  | { ok: true; message: JSONRPCMessage; kind: MessageKind }
  | {
      ok: false;
      /** The JSON-RPC error to send back (id filled in when the input was a readable request). */
      error: JSONRPCErrorResponse;
      /** The request id of the input, when it could be read. */
      requestId: RequestId | undefined;
    };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Parses one JSON-RPC message (no batches) with the errors of PROTOCOL.md §5: `-32700 Parse error: …`
 * for text that is not JSON, `-32602 Validation error: …` for JSON that is not a JSON-RPC message.
 * The message handed back is the parsed object itself, so no field a newer peer added is lost.
 */
export function decodeMessage(input: string | Uint8Array): DecodeResult {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = utf8.decode(input);
    } catch {
      return failure(parseError('body is not valid UTF-8'), undefined);
    }
  }
  if (text.trim() === '') return failure(parseError('empty message'), undefined);

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return failure(parseError(error instanceof Error ? error.message : 'invalid JSON'), undefined);
  }
  return validateMessage(value);
}

/** Validates an already-parsed value as one JSON-RPC message. */
export function validateMessage(value: unknown): DecodeResult {
  if (Array.isArray(value)) return failure(validationError('batches are not supported; send one message'));
  if (typeof value !== 'object' || value === null) {
    return failure(validationError(`expected a JSON object, got ${value === null ? 'null' : typeof value}`));
  }
  const record = value as Record<string, unknown>;
  const requestId = readableId(record);
  if (record.jsonrpc !== '2.0') {
    return failure(
      validationError(`jsonrpc must be "2.0", got ${JSON.stringify(record.jsonrpc) ?? 'nothing'}`),
      requestId,
    );
  }

  const kind = kindOf(record);
  if (kind === undefined) {
    return failure(
      validationError('not a JSON-RPC request, notification or response (no method, result or error)'),
      requestId,
    );
  }
  const schema = SCHEMAS[kind];
  const parsed = schema.safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return failure(validationError(`${path}${issue?.message ?? 'invalid message'}`), requestId);
  }
  return { ok: true, message: record as JSONRPCMessage, kind };
}

const SCHEMAS = {
  request: JSONRPCRequestSchema,
  notification: JSONRPCNotificationSchema,
  response: JSONRPCResultResponseSchema,
  error: JSONRPCErrorResponseSchema,
} as const;

function kindOf(record: Record<string, unknown>): MessageKind | undefined {
  if ('method' in record) return 'id' in record ? 'request' : 'notification';
  if ('error' in record) return 'error';
  if ('result' in record) return 'response';
  return undefined;
}

/** Reads the id of something that looks like a request, so even its validation error can be matched. */
function readableId(record: Record<string, unknown>): RequestId | undefined {
  if (!('method' in record)) return undefined;
  const id = record.id;
  if (typeof id === 'string') return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  return undefined;
}

function failure(error: JSONRPCErrorResponse, requestId?: RequestId): DecodeResult {
  return { ok: false, error: requestId === undefined ? error : { ...error, id: requestId }, requestId };
}

// Characters SQS refuses in a message body (its allowed set is #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD
// #x10000-#x10FFFF). JSON.stringify already escapes C0 controls and lone surrogates; these two remain.
const SQS_REJECTED = /[\uFFFE\uFFFF]/g;

/**
 * Serialises a message as compact JSON, escaping every character SQS would reject as `\uXXXX` so the
 * text is accepted by every transport and decodes to the same value.
 */
export function encodeMessage(message: JSONRPCMessage): string {
  return JSON.stringify(message).replace(SQS_REJECTED, escapeChar);
}

function escapeChar(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** The UTF-8 size of a text, as queues and topics count it. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export function classifyMessage(message: JSONRPCMessage): MessageKind {
  const kind = kindOf(message as Record<string, unknown>);
  if (kind === undefined) throw new TypeError('not a JSON-RPC message');
  return kind;
}

export function isRequest(message: JSONRPCMessage): message is JSONRPCRequest {
  return 'method' in message && 'id' in message;
}

export function isNotification(message: JSONRPCMessage): message is JSONRPCNotification {
  return 'method' in message && !('id' in message);
}

export function isResultResponse(message: JSONRPCMessage): message is JSONRPCResultResponse {
  return 'result' in message;
}

export function isErrorResponse(message: JSONRPCMessage): message is JSONRPCErrorResponse {
  return 'error' in message;
}

/** A response or an error: what answers a request. */
export function isAnswer(message: JSONRPCMessage): message is JSONRPCResultResponse | JSONRPCErrorResponse {
  return 'result' in message || 'error' in message;
}

export function isInitializeRequest(message: JSONRPCMessage): message is JSONRPCRequest {
  return isRequest(message) && message.method === 'initialize';
}

/** An answer to `initialize`: a result that names the negotiated `protocolVersion`. */
export function isInitializeResult(message: JSONRPCMessage): message is JSONRPCResultResponse {
  if (!isResultResponse(message)) return false;
  const result = message.result as Record<string, unknown> | undefined;
  return typeof result?.protocolVersion === 'string';
}

/** The negotiated version named by an initialize result, if the message is one. */
export function protocolVersionOf(message: JSONRPCMessage): string | undefined {
  return isInitializeResult(message) ? (message.result.protocolVersion as string) : undefined;
}
