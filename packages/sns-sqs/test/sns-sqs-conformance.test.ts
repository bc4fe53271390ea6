import { buildClientAttributes } from '@asyncmcp/core';
import { type ConformanceTarget, describeTransportConformance } from '@asyncmcp/core/testing';
import { toSqsAttributes } from '@asyncmcp/sqs';
import { started, startSqsEmulator } from '@asyncmcp-internal/test-support';
import { SnsSqsClientTransport, SnsSqsSessionManager, snsSqsBackend } from '../src/index.js';
import { publish } from './support.js';

/**
 * The shared suite, through fauxqs and the real AWS SDK clients: SNS topics fanned out to SQS queues,
 * once with SNS envelopes on every subscription, once with raw delivery, and once through the gateway
 * backend (its own topic and queue, made by the backend).
 */
function snsSqsTarget(kind: 'envelope' | 'raw' | 'backend'): () => Promise<ConformanceTarget> {
  return async () => {
    const emulator = await startSqsEmulator();
    const { sqsClient, snsClient } = emulator;
    const requestTopicArn = await emulator.createTopic('conformance-requests');
    const requestQueueUrl = await emulator.createQueue('conformance-requests');
    // The backend's requests arrive in envelopes; its answers come back raw (its default).
    await emulator.subscribe(requestTopicArn, requestQueueUrl, { raw: kind === 'raw' });
    const backend = snsSqsBackend({
      snsClient,
      sqsClient,
      requestTopicArn,
      resourceNamePrefix: 'conformance-gateway-',
    });
    return {
      startServer: (createServer) =>
        started(
          new SnsSqsSessionManager({
            snsClient,
            sqsClient,
            requestQueueUrl,
            createServer,
            visibilityTimeoutSeconds: 5,
          }),
        ),
      async createClientTransport(index) {
        if (kind === 'backend') return backend.createTransport({ sessionKey: `gw-${index}-${Date.now()}` });
        const responseTopicArn = await emulator.createTopic(`conformance-client-${index}`);
        const responseQueueUrl = await emulator.createQueue(`conformance-client-${index}`);
        await emulator.subscribe(responseTopicArn, responseQueueUrl, { raw: kind === 'raw' });
        return new SnsSqsClientTransport({
          snsClient,
          sqsClient,
          requestTopicArn,
          responseTopicArn,
          responseQueueUrl,
        });
      },
      async injectRaw(text, sessionId) {
        const attributes = toSqsAttributes(
          buildClientAttributes({ message: { jsonrpc: '2.0', method: 'x' }, clientId: 'raw', sessionId }),
        );
        await publish(snsClient, requestTopicArn, text, attributes);
      },
      async close() {
        await backend.close();
        await emulator.stop();
      },
    };
  };
}

describeTransportConformance(
  'SnsSqsClientTransport + SnsSqsSessionManager, SNS envelopes',
  snsSqsTarget('envelope'),
);
describeTransportConformance(
  'SnsSqsClientTransport + SnsSqsSessionManager, raw delivery',
  snsSqsTarget('raw'),
);
describeTransportConformance('snsSqsBackend + SnsSqsSessionManager', snsSqsTarget('backend'));
