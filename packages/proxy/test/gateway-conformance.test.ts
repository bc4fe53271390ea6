import { silentLogger } from '@asyncmcp/core';
import { type ConformanceTarget, describeTransportConformance } from '@asyncmcp/core/testing';
import { sqsBackend } from '@asyncmcp/sqs';
import { startSqsEmulator } from '@asyncmcp-internal/test-support';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createProxyServer } from '../src/index.js';
import { startSqsWorker } from './gateway-harness.js';

async function gatewayTarget(): Promise<ConformanceTarget> {
  const sqs = await startSqsEmulator();
  const requestQueueUrl = await sqs.createQueue('gateway-conformance');
  const backend = sqsBackend({ sqsClient: sqs.sqsClient, requestQueueUrl, waitTimeSeconds: 1 });
  const proxy = createProxyServer({ backend, port: 0, logger: silentLogger });
  const { url } = await proxy.listen();
  return {
    startServer: (createServer) => startSqsWorker(sqs, requestQueueUrl, createServer),
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
