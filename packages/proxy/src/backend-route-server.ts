import type { Server } from 'node:http';
import type { BackendHttpRoute } from '@asyncmcp/core';
import { createLimitedHttpServer, type ProxyHttpLimits } from './http-limits.js';
import { type BoundServer, closeServer, listenOn } from './listen-http.js';

/** A listening HTTP server that serves one backend route and nothing else. */
export interface BackendRouteServer extends BoundServer {
  close(): Promise<void>;
}

/**
 * stdio mode has no HTTP front, but a backend that receives over HTTP (webhooks) still needs its route
 * served: this server carries that route alone, and answers 404 to every other path.
 */
export async function serveBackendRoute(
  route: BackendHttpRoute,
  options: { host: string; port: number; http?: ProxyHttpLimits },
): Promise<BackendRouteServer> {
  const server: Server = createLimitedHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path !== route.path && !path.startsWith(`${route.path}/`)) {
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      return;
    }
    Promise.resolve(route.handle(req, res)).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end();
    });
  }, options.http);
  const bound = await listenOn(server, options.host, options.port);
  return { ...bound, close: () => closeServer(server) };
}
