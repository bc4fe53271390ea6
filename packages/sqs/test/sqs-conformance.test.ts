import { buildClientAttributes } from '@asyncmcp/core';
import { type ConformanceTarget, describeTransportConformance } from '@asyncmcp/core/testing';
import { type SqsEmulator, started, startSqsEmulator } from '@asyncmcp-internal/test-support';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { SqsClientTransport, SqsSessionManager, sqsBackend, toSqsAttributes } from '../src/index.js';

function sqsTarget(kind: 'client transport' | 'backend'): () => Promise<ConformanceTarget> {
  return async () => {
    const sqs: SqsEmulator = await startSqsEmulator();
    const { sqsClient } = sqs;
    const requestQueueUrl = await sqs.createQueue('conformance-requests');
    const backend = sqsBackend({
      sqsClient,
      requestQueueUrl,
      responseQueueNamePrefix: 'conformance-gateway-',
    });
    return {
      startServer: (createServer) =>
        started(
          new SqsSessionManager({ sqsClient, requestQueueUrl, createServer, visibilityTimeoutSeconds: 5 }),
        ),
      async createClientTransport(index) {
        if (kind === 'backend') return backend.createTransport({ sessionKey: `gw-${index}-${Date.now()}` });
        const responseQueueUrl = await sqs.createQueue(`conformance-client-${index}`);
        return new SqsClientTransport({ sqsClient, requestQueueUrl, responseQueueUrl });
      },
      async injectRaw(text, sessionId) {
        const attributes = buildClientAttributes({
          message: { jsonrpc: '2.0', method: 'x' },
          clientId: 'raw',
          sessionId,
        });
        await sqsClient.send(
          new SendMessageCommand({
            QueueUrl: requestQueueUrl,
            MessageBody: text,
            MessageAttributes: toSqsAttributes(attributes),
          }),
        );
      },
      async close() {
        await backend.close();
        await sqs.stop();
      },
    };
  };
}

describeTransportConformance('SQS client transport + SqsSessionManager', sqsTarget('client transport'), {
  sessionEndsOnClose: true,
});
describeTransportConformance('sqsBackend + SqsSessionManager', sqsTarget('backend'), {
  sessionEndsOnClose: true,
});
