import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';

export interface InitializeRequestOptions {
  /** @default '2025-06-18' */
  protocolVersion?: string;
  clientInfo?: { name: string; version: string };
  /** The request's `_meta`: where the answer goes (`responseQueueUrl`, `clientTopicArn`, `webhookUrl`). */
  meta?: Record<string, unknown>;
}

/**
 * The `initialize` a client without the SDK writes by hand, keys in the order the SDK writes them (the
 * Python wire-format tests compare its text).
 */
export function initializeRequest(
  id: string | number,
  options: InitializeRequestOptions = {},
): JSONRPCRequest {
  const { protocolVersion = '2025-06-18', clientInfo = { name: 'x', version: '1' }, meta } = options;
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion,
      capabilities: {},
      clientInfo,
      ...(meta ? { _meta: meta } : {}),
    },
  };
}
