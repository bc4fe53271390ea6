import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { ready } from './child-process.js';
import { startControl } from './control-server.js';

// `front-floor`: the SDK's Streamable HTTP transport on Express, mounted as the SDK documents it, whose
// messages are answered at once by the transport's owner — no MCP server, no channel, no gateway. The
// least CPU and latency any gateway built on the SDK's transport can spend per call.
const app = createMcpExpressApp();
const transports = new Map<string, StreamableHTTPServerTransport>();
app.all('/mcp', async (req, res) => {
  const sessionId = req.header('mcp-session-id');
  let transport = sessionId ? transports.get(sessionId) : undefined;
  if (!transport && isInitializeRequest(req.body)) {
    const created = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void transports.set(id, created),
    });
    created.onmessage = (message) => {
      const answer = answerOf(message);
      if (answer) void created.send(answer);
    };
    await created.start();
    transport = created;
  }
  if (!transport) return void res.status(404).end();
  await transport.handleRequest(req, res, req.body);
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

const control = await startControl(() => ({ sessions: transports.size }));
const server = app.listen(0, '127.0.0.1', () => {
  ready({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, control });
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
