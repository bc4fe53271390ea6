import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Request, Response } from 'express';
import { createEverythingServer } from './everything-server.js';

export interface EverythingHttpServerOptions {
  /** @default 3001 (0 picks a free port) */
  port?: number;
  /** Loopback hosts get DNS-rebinding protection (Host header validation). @default '127.0.0.1' */
  host?: string;
}

export interface EverythingHttpServer {
  /** The MCP endpoint, e.g. `http://127.0.0.1:3001/mcp`. */
  readonly url: string;
  /** Closes every session and the HTTP server. */
  close(): Promise<void>;
}

/** Serves the everything server over Streamable HTTP at `/mcp`, one `McpServer` per session. */
export async function startEverythingHttpServer(
  options: EverythingHttpServerOptions = {},
): Promise<EverythingHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const app = createMcpExpressApp({ host });
  const sessions = new Map<string, StreamableHTTPServerTransport>();

  const rpcError = (res: Response, status: number, message: string) => {
    res.status(status).json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
  };

  app.post('/mcp', async (req: Request, res: Response) => {
    const sessionId = req.header('mcp-session-id');
    if (sessionId !== undefined) {
      const transport = sessions.get(sessionId);
      if (!transport) return rpcError(res, 404, 'Session not found');
      return transport.handleRequest(req, res, req.body);
    }
    if (!isInitializeRequest(req.body)) return rpcError(res, 400, 'Bad Request: no session id');

    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      // Makes streams resumable (Last-Event-ID), which `test_reconnection` relies on.
      eventStore: new InMemoryEventStore(),
      retryInterval: 1_000,
      onsessioninitialized: (id) => {
        sessions.set(id, transport);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await createEverythingServer().connect(transport);
    await transport.handleRequest(req, res, req.body);
  });

  // GET opens the standalone SSE stream (or resumes one), DELETE ends the session.
  const existingSession = async (req: Request, res: Response) => {
    const sessionId = req.header('mcp-session-id');
    const transport = sessionId === undefined ? undefined : sessions.get(sessionId);
    if (!transport) return rpcError(res, sessionId === undefined ? 400 : 404, 'Session not found');
    await transport.handleRequest(req, res);
  };
  app.get('/mcp', existingSession);
  app.delete('/mcp', existingSession);

  const httpServer = createServer(app);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 3001, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}/mcp`,
    async close() {
      await Promise.allSettled([...sessions.values()].map((transport) => transport.close()));
      sessions.clear();
      // Open SSE streams would otherwise keep `close()` waiting for their clients.
      httpServer.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        httpServer.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startEverythingHttpServer({
    port: Number(process.env.PORT ?? 3001),
    host: process.env.HOST ?? '127.0.0.1',
  });
  console.log(`everything-server: MCP over Streamable HTTP at ${server.url}`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
