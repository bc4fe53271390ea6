import { type ConformanceTarget, describeTransportConformance } from '@asyncmcp/core/testing';
import { WebhookClientTransport, WebhookSessionManager, webhookBackend } from '../src/index.js';
import { WebhookSigner } from '../src/webhook-signing.js';
import { type LoopbackServer, SECRET, startLoopbackServer } from './helpers.js';

/** Puts raw text on the server's endpoint as if `sessionId`'s client had sent it. */
function rawInjector(serverUrl: () => string, signer?: WebhookSigner) {
  return async (text: string, sessionId: string) => {
    const response = await fetch(serverUrl(), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Client-ID': 'raw',
        'X-Session-ID': sessionId,
        ...signer?.headers(text),
      },
      body: text,
    });
    await response.body?.cancel();
  };
}

/** Each client runs a receiver of its own (`listen`); everything is signed both ways. */
function clientTransportTarget(): () => Promise<ConformanceTarget> {
  return async () => {
    let serverUrl = '';
    const transports: WebhookClientTransport[] = [];
    return {
      async startServer(createServer) {
        const manager = new WebhookSessionManager({
          createServer,
          allowPrivateNetworks: true,
          signingSecret: SECRET,
        });
        serverUrl = await manager.listen({ port: 0 });
        return manager;
      },
      createClientTransport() {
        const transport = new WebhookClientTransport({
          serverUrl,
          listen: { port: 0, host: '127.0.0.1' },
          signingSecret: SECRET,
        });
        transports.push(transport);
        return transport;
      },
      injectRaw: rawInjector(() => serverUrl, new WebhookSigner(SECRET)),
      async close() {
        await Promise.allSettled(transports.map((transport) => transport.close()));
      },
    };
  };
}

/** One backend for every session, its route mounted on one plain node:http server, as a gateway would. */
function backendTarget(): () => Promise<ConformanceTarget> {
  return async () => {
    let serverUrl = '';
    let backend: ReturnType<typeof webhookBackend> | undefined;
    const gateway: LoopbackServer = await startLoopbackServer((req, res) =>
      backend?.httpRoute.handle(req, res),
    );
    let sessions = 0;
    return {
      async startServer(createServer) {
        const manager = new WebhookSessionManager({ createServer, allowPrivateNetworks: true });
        serverUrl = await manager.listen({ port: 0 });
        backend = webhookBackend({ serverUrl, webhookBaseUrl: gateway.origin });
        return manager;
      },
      createClientTransport(index) {
        if (!backend) throw new Error('server not started');
        return backend.createTransport({ sessionKey: `gw${index}x${++sessions}` });
      },
      injectRaw: rawInjector(() => serverUrl),
      async close() {
        await backend?.close();
        await gateway.close();
      },
    };
  };
}

// Closing either client sends DELETE, so the server session ends with it.
describeTransportConformance(
  'WebhookClientTransport + WebhookSessionManager (signed)',
  clientTransportTarget(),
  {
    sessionEndsOnClose: true,
  },
);
describeTransportConformance('webhookBackend + WebhookSessionManager', backendTarget(), {
  sessionEndsOnClose: true,
});
