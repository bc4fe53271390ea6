import type { Backend, Logger } from '@asyncmcp/core';
import { createProxyServer } from '@asyncmcp/proxy';
import { snsSqsBackend } from '@asyncmcp/sns-sqs';
import { AWS_CLIENT_DEFAULTS, sqsBackend } from '@asyncmcp/sqs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { createBackend } from './backends.js';
import type { BackendName } from './config/index.js';
import { DEMO_TOOLS, DEMO_WEBHOOK_TOOLS, startDemoHttpServer, startDemoServer } from './demo-server.js';
import { asListenError } from './listen-error.js';

export interface RunningDemo {
  readonly url: string;
  /** The transport between the gateway and the demo server. */
  readonly backend: BackendName;
  /** Stops the gateway, the demo server and the emulator, in that order. */
  close(): Promise<void>;
}

/** The name of the demo's request queue, and of its request topic with sns-sqs. */
const DEMO_REQUESTS = 'asyncmcp-demo-requests';

/**
 * Everything on one machine, no AWS account: an SQS (and SNS) emulator in this process, the demo MCP
 * server on its request queue, and the gateway in front, exactly as it runs against real AWS.
 *  - sqs: the gateway sends to the request queue; the server answers on the gateway's response queue.
 *  - sns-sqs: the gateway publishes to a request topic the server's queue is subscribed to; the server
 *    publishes answers to the gateway's response topic, which the gateway makes (with its queue).
 *  - webhook, hybrid: no emulator; the demo server listens on loopback and answers on the gateway's
 *    webhook route, at the address the gateway listens on.
 */
export async function startDemo(options: {
  host: string;
  port: number;
  logger: Logger;
  /** @default 'sqs' */
  backend?: BackendName;
}): Promise<RunningDemo> {
  const backendName = options.backend ?? 'sqs';
  if (backendName === 'webhook' || backendName === 'hybrid') {
    return startWebhookDemo({ ...options, backend: backendName });
  }
  const { logger } = options;
  const emulator = await startFauxqs({ port: 0, logger: false });
  const cleanups: Array<() => Promise<void> | void> = [() => emulator.stop()];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await Promise.resolve()
        .then(cleanup)
        .catch(() => undefined);
    }
  };
  try {
    const clientConfig = {
      ...AWS_CLIENT_DEFAULTS,
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${emulator.port}`,
      // The emulator checks nothing; fixed credentials keep the SDK from looking for real ones.
      credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
    };
    const sqsClient = new SQSClient(clientConfig);
    cleanups.push(() => sqsClient.destroy());
    const created = await sqsClient.send(new CreateQueueCommand({ QueueName: DEMO_REQUESTS }));
    const requestQueueUrl = created.QueueUrl as string;

    let backend: Backend;
    if (backendName === 'sns-sqs') {
      const snsClient = new SNSClient(clientConfig);
      cleanups.push(() => snsClient.destroy());
      const requestTopicArn = await subscribedRequestTopic(snsClient, sqsClient, requestQueueUrl);
      const manager = await startDemoServer({ sqsClient, snsClient, requestQueueUrl, logger });
      cleanups.push(() => manager.close());
      backend = snsSqsBackend({ snsClient, sqsClient, requestTopicArn, logger });
    } else {
      const manager = await startDemoServer({ sqsClient, requestQueueUrl, logger });
      cleanups.push(() => manager.close());
      backend = sqsBackend({ sqsClient, requestQueueUrl, logger });
    }

    const proxy = createProxyServer({ backend, host: options.host, port: options.port, logger });
    cleanups.push(() => proxy.close());
    let url: string;
    try {
      ({ url } = await proxy.listen());
    } catch (error) {
      throw asListenError(options, error);
    }
    return { url, backend: backendName, close: cleanUp };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** The demo over HTTP: the demo server on loopback, the gateway with the webhook or hybrid backend. */
async function startWebhookDemo(options: {
  host: string;
  port: number;
  logger: Logger;
  backend: 'webhook' | 'hybrid';
}): Promise<RunningDemo> {
  const { logger, backend } = options;
  const server = await startDemoHttpServer({ backend, logger });
  const cleanups: Array<() => Promise<void>> = [() => server.close()];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const handle = await createBackend(
      {
        backend,
        serverUrl: server.url,
        webhookBaseUrl: undefined,
        webhookPath: undefined,
        signingSecret: undefined,
        requestQueueUrl: undefined,
        responseQueueUrl: undefined,
        responseQueueLeaseSeconds: undefined,
        requestTopicArn: undefined,
        responseTopicArn: undefined,
        region: undefined,
        endpointUrl: undefined,
      },
      { logger },
    );
    cleanups.push(() => handle.close());
    const proxy = createProxyServer({
      backend: handle.backend,
      host: options.host,
      port: options.port,
      logger,
    });
    cleanups.push(() => proxy.close());
    let url: string;
    try {
      // Also gives the backend its webhook address: on every interface, the loopback one the server uses.
      ({ url } = await proxy.listen());
    } catch (error) {
      throw asListenError(options, error);
    }
    return { url, backend, close: cleanUp };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** The demo's request topic, with the server's request queue subscribed to it (raw delivery). */
async function subscribedRequestTopic(
  snsClient: SNSClient,
  sqsClient: SQSClient,
  requestQueueUrl: string,
): Promise<string> {
  const topic = await snsClient.send(new CreateTopicCommand({ Name: DEMO_REQUESTS }));
  const requestTopicArn = topic.TopicArn as string;
  const { Attributes } = await sqsClient.send(
    new GetQueueAttributesCommand({ QueueUrl: requestQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await snsClient.send(
    new SubscribeCommand({
      TopicArn: requestTopicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return requestTopicArn;
}

const DESCRIPTIONS: Record<BackendName, { title: string; backend: string }> = {
  sqs: {
    title: 'an MCP server on a local SQS queue',
    backend: "sqs: the gateway sends to a request queue; answers come back on the gateway's response queue",
  },
  'sns-sqs': {
    title: 'an MCP server on a local SNS topic fanned out to SQS',
    backend:
      "sns-sqs: the gateway publishes to a request topic the server's queue is subscribed to; answers come back through the gateway's own topic and queue",
  },
  webhook: {
    title: 'an MCP server answering on webhooks',
    backend:
      "webhook: the gateway POSTs each message to the server, which POSTs answers, progress and log messages to the gateway's webhook",
  },
  hybrid: {
    title: 'a Streamable HTTP MCP server with webhook answers for slow tools',
    backend: `hybrid: the gateway speaks Streamable HTTP to the server; the answers of ${DEMO_WEBHOOK_TOOLS.join(' and ')} come back on the gateway's webhook`,
  },
};

/** What the demo prints for a person: which backend runs, where to point a client, and how. */
export function demoBanner(url: string, backend: BackendName = 'sqs'): string {
  const clientConfig = JSON.stringify({ mcpServers: { 'asyncmcp-demo': { type: 'http', url } } });
  const description = DESCRIPTIONS[backend];
  return [
    '',
    `asyncmcp demo: ${description.title}, behind the asyncmcp gateway.`,
    '',
    `  MCP endpoint:  ${url}`,
    `  Backend:       ${description.backend}`,
    `  Tools:         ${DEMO_TOOLS.join(', ')}`,
    '',
    'Client configuration (any MCP client that speaks Streamable HTTP):',
    '',
    `  ${clientConfig}`,
    '',
    'List the tools with the MCP Inspector (it needs Node.js 22 or newer):',
    '',
    `  npx @modelcontextprotocol/inspector --cli ${url} --transport http --method tools/list`,
    '',
    'Clients that only launch stdio servers can reach it through mcp-remote:',
    '',
    `  {"mcpServers":{"asyncmcp-demo":{"command":"npx","args":["mcp-remote","${url}"]}}}`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
