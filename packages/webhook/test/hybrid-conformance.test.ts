import { type ConformanceTarget, describeTransportConformance } from '@asyncmcp/core/testing';
import { HybridSessionManager, hybridBackend, StreamableHttpWebhookClientTransport } from '../src/index.js';
import { type LoopbackServer, startLoopbackServer } from './helpers.js';

/**
 * The hybrid: `echo` and `sample` answer by webhook, the rest on the SSE stream. Every client runs its
 * own receiver (or, for the backend, one gateway route serves all sessions).
 */
function hybridTarget(kind: 'client transport' | 'backend'): () => Promise<ConformanceTarget> {
  return async () => {
    let serverUrl = '';
    const transports: StreamableHttpWebhookClientTransport[] = [];
    let backend: ReturnType<typeof hybridBackend> | undefined;
    const gateway: LoopbackServer = await startLoopbackServer((req, res) =>
      backend?.httpRoute.handle(req, res),
    );
    let sessions = 0;
    return {
      async startServer(createServer) {
        const manager = new HybridSessionManager({
          createServer,
          webhookTools: ['echo', 'sample'],
          allowPrivateNetworks: true,
          adoptProposedSessionIds: true,
        });
        serverUrl = await manager.listen({ port: 0 });
        backend = hybridBackend({ serverUrl, webhookBaseUrl: gateway.origin });
        return manager;
      },
      createClientTransport(index) {
        if (kind === 'backend') {
          if (!backend) throw new Error('server not started');
          return backend.createTransport({ sessionKey: `gw${index}x${++sessions}` });
        }
        const transport = new StreamableHttpWebhookClientTransport({
          serverUrl,
          listen: { port: 0, host: '127.0.0.1' },
        });
        transports.push(transport);
        return transport;
      },
      async close() {
        await Promise.allSettled(transports.map((transport) => transport.close()));
        await backend?.close();
        await gateway.close();
      },
    };
  };
}

describeTransportConformance(
  'StreamableHttpWebhookClientTransport + HybridSessionManager',
  hybridTarget('client transport'),
  {
    sessionEndsOnClose: true,
  },
);
describeTransportConformance('hybridBackend + HybridSessionManager', hybridTarget('backend'), {
  sessionEndsOnClose: true,
});
