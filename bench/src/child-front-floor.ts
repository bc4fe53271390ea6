import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { serveSdkStreamableHttp } from './sdk-streamable-app.js';

// `front-floor`: the SDK's Streamable HTTP transport on Express, mounted as the SDK documents it, whose
// messages are answered at once by the transport's owner — no MCP server, no channel, no gateway. The
// least CPU and latency any gateway built on the SDK's transport can spend per call.
await serveSdkStreamableHttp(async (transport) => {
  transport.onmessage = (message) => {
    const answer = answerOf(message);
    if (answer) void transport.send(answer);
  };
  await transport.start();
});

function answerOf(message: JSONRPCMessage): JSONRPCMessage | undefined {
  if (!('method' in message) || !('id' in message)) return undefined;
  const params = message.params as Record<string, unknown> | undefined;
  if (message.method === 'initialize') {
    return {
      jsonrpc: '2.0',
      id: message.id,
      result: {
        protocolVersion: params?.protocolVersion as string,
        capabilities: { tools: {} },
        serverInfo: { name: 'bench', version: '1.0.0' },
      },
    };
  }
  const text = (params?.arguments as { text?: string } | undefined)?.text;
  return { jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text }] } };
}
