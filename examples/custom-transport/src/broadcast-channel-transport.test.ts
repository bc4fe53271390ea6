import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { buildClientAttributes } from '@asyncmcp/core';
import { type ConformanceTarget, describeTransportConformance } from '@asyncmcp/core/testing';
import {
  BroadcastChannelClientTransport,
  BroadcastChannelSessionManager,
  broadcastChannelBackend,
  type WireMessage,
} from './broadcast-channel-transport.js';

function broadcastChannelTarget(kind: 'client transport' | 'backend'): () => Promise<ConformanceTarget> {
  return async () => {
    // A fresh channel name per suite, so the two suites in this file never hear each other.
    const serverChannel = `conformance-${randomUUID()}`;
    const backend = broadcastChannelBackend({ serverChannel });
    const raw = new BroadcastChannel(serverChannel);
    raw.unref();
    return {
      async startServer(createServer) {
        const manager = new BroadcastChannelSessionManager({ channel: serverChannel, createServer });
        await manager.start();
        return manager;
      },
      createClientTransport: () =>
        kind === 'backend'
          ? backend.createTransport({ sessionKey: `gw-${randomUUID()}` })
          : new BroadcastChannelClientTransport({ serverChannel }),
      // Raw text on the request channel, with the attributes a client of `sessionId` would send.
      async injectRaw(text, sessionId) {
        const attributes = buildClientAttributes({
          message: { jsonrpc: '2.0', method: 'raw' },
          clientId: 'raw',
          sessionId,
        });
        const wire: WireMessage = { body: text, attributes };
        raw.postMessage(wire);
      },
      async close() {
        raw.close();
        await backend.close();
      },
    };
  };
}

describeTransportConformance(
  'broadcast-channel client transport',
  broadcastChannelTarget('client transport'),
);
describeTransportConformance('broadcast-channel backend', broadcastChannelTarget('backend'));
