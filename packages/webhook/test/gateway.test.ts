import { silentLogger, type Transport } from '@asyncmcp/core';
import { type ConformanceTarget, describeTransportConformance } from '@asyncmcp/core/testing';
import { createProxyServer, type ProxyServer } from '@asyncmcp/proxy';
import { freeLoopbackPort } from '@asyncmcp-internal/test-support';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  HybridSessionManager,
  hybridBackend,
  type WebhookRouteBackend,
  WebhookSessionManager,
  webhookBackend,
} from '../src/index.js';

/**
 * Any MCP client → the asyncmcp gateway (Streamable HTTP) → a webhook or hybrid backend → the async
 * server. The gateway mounts the backend's ONE webhook route (`backend.httpRoute`) on its own HTTP
 * server by itself.
 */
function gatewayTarget(kind: 'webhook' | 'hybrid'): () => Promise<ConformanceTarget> {
  return async () => {
    let gateway: ProxyServer | undefined;
    let gatewayUrl = '';
    const clients: Transport[] = [];
    return {
      async startServer(createServer) {
        const manager =
          kind === 'webhook'
            ? new WebhookSessionManager({ createServer, allowPrivateNetworks: true })
            : new HybridSessionManager({
                createServer,
                webhookTools: ['echo', 'sample'],
                allowPrivateNetworks: true,
                adoptProposedSessionIds: true,
              });
        const serverUrl = await manager.listen({ port: 0 });
        const port = await freeLoopbackPort();
        const webhookBaseUrl = `http://127.0.0.1:${port}`;
        const backend: WebhookRouteBackend =
          kind === 'webhook'
            ? webhookBackend({ serverUrl, webhookBaseUrl })
            : hybridBackend({ serverUrl, webhookBaseUrl });
        gateway = createProxyServer({ backend, port, logger: silentLogger });
        gatewayUrl = (await gateway.listen()).url;
        return manager;
      },
      createClientTransport() {
        const transport = new StreamableHTTPClientTransport(new URL(gatewayUrl));
        clients.push(transport);
        return transport;
      },
      async close() {
        await Promise.allSettled(clients.map((client) => client.close()));
        await gateway?.close();
      },
    };
  };
}

// The gateway's HTTP session ids are its own secrets, independent of the session ids it proposes to the
// server. Terminating a session on the async server does not end the gateway's session with its client,
// and the SDK client's close() does not end its gateway session, so those checks (and the raw-input one,
// which needs the server's channel) belong to the direct targets.
const capabilities = { terminatedSessionError: false, clientSeesServerSessionId: false };
describeTransportConformance(
  'gateway → webhookBackend → WebhookSessionManager',
  gatewayTarget('webhook'),
  capabilities,
);
describeTransportConformance(
  'gateway → hybridBackend → HybridSessionManager',
  gatewayTarget('hybrid'),
  capabilities,
);
