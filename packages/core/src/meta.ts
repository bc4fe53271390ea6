import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { isRequest } from './codec.js';

/** The `_meta` keys by which a client names where the server should answer (PROTOCOL.md §1–§4). */
export const MetaKey = {
  ResponseQueueUrl: 'responseQueueUrl',
  ClientTopicArn: 'clientTopicArn',
  WebhookUrl: 'webhookUrl',
} as const;
export type MetaKey = (typeof MetaKey)[keyof typeof MetaKey];

/** The prefix MCP reserves for its own `_meta` keys. */
const MCP_META_PREFIX = 'io.modelcontextprotocol/';

/**
 * The `_meta` keys by which a request carries what a fresh server needs to answer it without a session
 * (MCP 2026-07-28). Our clients put them on every request of a session whose worker said it is
 * stateless (`asyncmcp/worker` with `stateless: true`).
 */
export const RequestMetaKey = {
  ProtocolVersion: `${MCP_META_PREFIX}protocolVersion`,
  ClientCapabilities: `${MCP_META_PREFIX}clientCapabilities`,
  ClientInfo: `${MCP_META_PREFIX}clientInfo`,
} as const;
export type RequestMetaKey = (typeof RequestMetaKey)[keyof typeof RequestMetaKey];

/**
 * Ours (PROTOCOL.md §8, version 2): on an `initialize` result, what the worker that answered offers the
 * session — see `WorkerHint`.
 */
export const WORKER_META_KEY = 'asyncmcp/worker';

/**
 * Ours (PROTOCOL.md §7b, version 3): `_meta["asyncmcp/adopt"] = true` on the `ping` by which a gateway
 * instance asks whether a session another instance opened is held. A worker that does not hold it hands
 * it back to the shared queue for the one that does (up to `SESSION_DEFAULTS.adoptionHandBacks`), and
 * the one that does answers with its hint (`asyncmcp/worker`), as to `initialize`.
 */
export const ADOPT_META_KEY = 'asyncmcp/adopt';

/** The adoption `ping` a gateway instance sends (PROTOCOL.md §7b). */
export function adoptionPing(id: string | number): JSONRPCRequest {
  return { jsonrpc: '2.0', id, method: 'ping', params: { _meta: { [ADOPT_META_KEY]: true } } };
}

/**
 * The adoption `ping` a raw message body holds, if it holds one; read before the message is dispatched,
 * and parsed only when the body names the key at all, so other messages cost a substring search.
 */
export function adoptionPingIn(body: string | Uint8Array): JSONRPCRequest | undefined {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  if (!text.includes(ADOPT_META_KEY)) return undefined;
  try {
    const message = JSON.parse(text) as JSONRPCMessage;
    return isAdoptionPing(message) ? message : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a message is an adoption `ping`. */
export function isAdoptionPing(message: JSONRPCMessage): message is JSONRPCRequest {
  return isRequest(message) && message.method === 'ping' && readMetaValue(message, ADOPT_META_KEY) === true;
}

/**
 * What a worker tells a client in its `initialize` answer (`_meta["asyncmcp/worker"]`):
 * - `inbox`: the SQS queue that reaches this worker alone; the session's later messages go there rather
 *   than to the shared request queue, so no other worker receives them.
 * - `aliveIntervalSeconds`: while it runs a request of the session for longer than this, the worker sends
 *   `notifications/asyncmcp/alive` at this interval; a client that hears nothing of the session for three
 *   intervals while a request waits may take the session as lost.
 * - `stateless`: any worker answers any request of the session; each request must carry the
 *   `RequestMetaKey` entries and the client's answer address.
 * Peers that do not know the key ignore it and keep using the shared queue.
 */
export interface WorkerHint {
  inbox?: string;
  aliveIntervalSeconds?: number;
  stateless?: boolean;
}

/** Reads a worker hint from an `initialize` result; undefined when absent or malformed. */
export function readWorkerHint(message: JSONRPCMessage): WorkerHint | undefined {
  if (!('result' in message) || !isPlainObject(message.result)) return undefined;
  const meta = message.result._meta;
  if (!isPlainObject(meta)) return undefined;
  const hint = meta[WORKER_META_KEY];
  if (!isPlainObject(hint)) return undefined;
  const read: WorkerHint = {};
  if (typeof hint.inbox === 'string' && hint.inbox !== '') read.inbox = hint.inbox;
  if (
    typeof hint.aliveIntervalSeconds === 'number' &&
    Number.isFinite(hint.aliveIntervalSeconds) &&
    hint.aliveIntervalSeconds > 0
  )
    read.aliveIntervalSeconds = hint.aliveIntervalSeconds;
  if (hint.stateless === true) read.stateless = true;
  return read;
}

/** Returns a copy of a result message with `entries` merged into `result._meta`. */
export function withResultMeta<M extends JSONRPCMessage>(
  message: M,
  entries: Readonly<Record<string, unknown>>,
): M {
  if (!('result' in message) || !isPlainObject(message.result)) return message;
  const result = message.result;
  const meta = isPlainObject(result._meta) ? result._meta : {};
  return { ...message, result: { ...result, _meta: { ...meta, ...entries } } };
}

/** Reads one `_meta` entry of a request, whatever its type. */
export function readMetaValue(message: JSONRPCMessage, key: string): unknown {
  if (!isRequest(message)) return undefined;
  const meta = (message.params as Record<string, unknown> | undefined)?._meta;
  return isPlainObject(meta) ? meta[key] : undefined;
}

/**
 * Returns a copy of a request with `entries` merged into `params._meta`, creating `params` and `_meta`
 * when absent and keeping every other key the caller put there. The input is not modified.
 */
export function withMeta(
  message: JSONRPCRequest,
  entries: Readonly<Record<string, unknown>>,
): JSONRPCRequest {
  const params = (message.params ?? {}) as Record<string, unknown>;
  const meta = isPlainObject(params._meta) ? params._meta : {};
  return { ...message, params: { ...params, _meta: { ...meta, ...entries } } };
}

/** Reads one `_meta` entry of a request as a string, if present. */
export function readMeta(message: JSONRPCMessage, key: string): string | undefined {
  if (!isRequest(message)) return undefined;
  const value = readMetaValue(message, key);
  return typeof value === 'string' ? value : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
