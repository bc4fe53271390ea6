import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { isRequest } from './codec.js';

/** The `_meta` keys by which a client names where the server should answer (PROTOCOL.md §1–§4). */
export const MetaKey = {
  ResponseQueueUrl: 'responseQueueUrl',
  ClientTopicArn: 'clientTopicArn',
  WebhookUrl: 'webhookUrl',
} as const;
export type MetaKey = (typeof MetaKey)[keyof typeof MetaKey];

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
  const meta = (message.params as Record<string, unknown> | undefined)?._meta;
  if (!isPlainObject(meta)) return undefined;
  const value = meta[key];
  return typeof value === 'string' ? value : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
