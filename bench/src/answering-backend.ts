import type { Backend, Transport } from '@asyncmcp/core';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * A backend that answers in the gateway's own process, with no channel and no server: `initialize` and the
 * echo tool's `tools/call`, as the bench server would. A gateway on it costs what the gateway's own code,
 * the SDK's transport and Express cost, and nothing a channel adds (the `gateway-in-process` path).
 */
export function answeringBackend(): Backend {
  return {
    specificationVersion: 'v1',
    name: 'in-process',
    createTransport: () => new AnsweringTransport(),
    close: async () => undefined,
  };
}

class AnsweringTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    if (!('method' in message) || !('id' in message)) return;
    const params = message.params as Record<string, unknown> | undefined;
    const result =
      message.method === 'initialize'
        ? {
            protocolVersion: params?.protocolVersion,
            capabilities: { tools: {} },
            serverInfo: { name: 'bench', version: '1.0.0' },
          }
        : message.method === 'tools/call'
          ? { content: [{ type: 'text', text: (params?.arguments as { text?: string } | undefined)?.text }] }
          : {};
    // Answered on a later turn, as an answer from any channel would be.
    queueMicrotask(() => this.onmessage?.({ jsonrpc: '2.0', id: message.id, result } as JSONRPCMessage));
  }

  async close(): Promise<void> {
    this.onclose?.();
  }
}
