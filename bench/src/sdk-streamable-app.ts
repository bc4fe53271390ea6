import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { ready } from './child-process.js';
import { startControl } from './control-server.js';

/**
 * A child process serving the SDK's Streamable HTTP transport on Express at `/mcp`, mounted as the SDK
 * documents it: one transport per session, made on `initialize` and given to `attach` (an MCP server's
 * `connect`, or whatever answers its messages). Stops on SIGTERM.
 */
export async function serveSdkStreamableHttp(
  attach: (transport: StreamableHTTPServerTransport) => Promise<void>,
): Promise<void> {
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
      transport = created;
      await attach(created);
    }
    if (!transport) return void res.status(404).end();
    await transport.handleRequest(req, res, req.body);
  });
  const control = await startControl(() => ({ sessions: transports.size }));
  const server = app.listen(0, '127.0.0.1', () => {
    ready({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, control });
  });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}
