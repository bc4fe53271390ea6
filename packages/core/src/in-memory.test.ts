import { randomUUID } from 'node:crypto';
import { buildClientAttributes } from './envelope.js';
import {
  InMemoryBroker,
  InMemoryClientTransport,
  InMemorySessionManager,
  inMemoryBackend,
} from './in-memory.js';
import { type ConformanceTarget, describeTransportConformance } from './testing.js';

function inMemoryTarget(kind: 'client transport' | 'backend'): () => Promise<ConformanceTarget> {
  return async () => {
    const broker = new InMemoryBroker();
    const serverAddress = `server-${randomUUID()}`;
    const backend = inMemoryBackend({ broker, serverAddress });
    return {
      async startServer(createServer) {
        const manager = new InMemorySessionManager({ broker, address: serverAddress, createServer });
        await manager.start();
        return manager;
      },
      createClientTransport: () =>
        kind === 'backend'
          ? backend.createTransport({ sessionKey: `gw-${randomUUID()}` })
          : new InMemoryClientTransport({ broker, serverAddress }),
      async injectRaw(text, sessionId) {
        const attributes = buildClientAttributes({
          message: { jsonrpc: '2.0', method: 'x' },
          clientId: 'raw',
          sessionId,
        });
        await broker.post(serverAddress, { body: text, attributes });
      },
      close: () => backend.close(),
    };
  };
}

describeTransportConformance('in-memory client transport', inMemoryTarget('client transport'), {
  sessionEndsOnClose: true,
});
describeTransportConformance('in-memory backend', inMemoryTarget('backend'), { sessionEndsOnClose: true });
