import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Backend } from '@asyncmcp/core';
import { ListenError } from './listen-error.js';

/** A server bound by `listenOn`: its port, and the origin a process on this machine reaches it at. */
export interface BoundServer {
  readonly port: number;
  /** `http://host:port` as bound (a wildcard host stays as it is), for the URL the gateway announces. */
  readonly boundOrigin: string;
  /** `http://host:port` with a wildcard host replaced by loopback, for backends (`Backend.listening`). */
  readonly localOrigin: string;
}

/** Binds `server` to `host`:`port`; a failure rejects with a `ListenError`. */
export function listenOn(server: Server, host: string, port: number): Promise<BoundServer> {
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => reject(new ListenError({ host, port, cause: error }));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      const bound = (server.address() as AddressInfo).port;
      resolve({
        port: bound,
        boundOrigin: `http://${hostInUrl(host)}:${bound}`,
        localOrigin: `http://${hostInUrl(localHost(host))}:${bound}`,
      });
    });
  });
}

/** Tells the backend where the gateway listens, if it wants to know. */
export async function announceListening(backend: Backend, bound: BoundServer): Promise<void> {
  await backend.listening?.({ origin: bound.localOrigin });
}

/** Stops `server`: no new connections, and the open ones (SSE streams, keep-alives) cut. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Every interface is reachable from this machine on loopback; a named interface is reached as named. */
function localHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

function hostInUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
