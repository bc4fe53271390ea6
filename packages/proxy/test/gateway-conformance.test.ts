import { silentLogger } from '@asyncmcp/core';
import { type ConformanceTarget, describeTransportConformance } from '@asyncmcp/core/testing';
import { SqsSessionManager, sqsBackend } from '@asyncmcp/sqs';
import { startSqsEmulator } from '@asyncmcp-internal/test-support';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createProxyServer } from '../src/index.js';

async function gatewayTarget(): Promise<ConformanceTarget> {
  const sqs = await startSqsEmulator();
  const requestQueueUrl = await sqs.createQueue('gateway-conformance');
  const backend = sqsBackend({ sqsClient: sqs.sqsClient, requestQueueUrl, waitTimeSeconds: 1 });
  const proxy = createProxyServer({ backend, port: 0, logger: silentLogger });
  const { url } = await proxy.listen();
  return {
    async startServer(createServer) {
      const manager = new SqsSessionManager({
        sqsClient: sqs.sqsClient,
        requestQueueUrl,
        createServer,
        waitTimeSeconds: 1,
      });
      await manager.start();
      return manager;
    },
    createClientTransport: () => new StreamableHTTPClientTransport(new URL(url)),
    async close() {
      await proxy.close();
      await sqs.stop();
    },
  };
}

// The gateway's HTTP session ids are its own, independent of the queue session ids it proposes.
describeTransportConformance('gateway (Streamable HTTP) → sqsBackend → SqsSessionManager', gatewayTarget, {
  clientSeesServerSessionId: false,
});
