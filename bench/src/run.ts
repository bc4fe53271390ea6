import { randomUUID } from 'node:crypto';
import { SnsSqsClientTransport } from '@asyncmcp/sns-sqs';
import { SqsClientTransport } from '@asyncmcp/sqs';
import { WebhookClientTransport } from '@asyncmcp/webhook';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { awsClients } from './aws-clients.js';
import { buildCli } from './cli-process.js';
import { countingSqsClient } from './counting-sqs-client.js';
import { frontFloors, httpFloor, rawFloor } from './floor-paths.js';
import { gatewaySqsProfile, profileOnly } from './gateway-profile-run.js';
import { getJson } from './get-json.js';
import { idleCost } from './idle-cost.js';
import { openIdleSessions } from './idle-sessions.js';
import { interleavedLatency } from './interleaved-latency.js';
import { connect } from './mcp-calls.js';
import { measurePath } from './measure-path.js';
import type { GatewayProfile } from './profile-gateway.js';
import { child, children, IDLE_WINDOW_MS, log, PATH_SETTINGS, queue, values } from './run-context.js';
import { reportRun } from './run-report.js';
import { measureSessions, sessionsOnly } from './sessions-step.js';
import { measureWorkers, workersOnly } from './workers-report.js';

/**
 * `pnpm bench`: every path measured in turn against one emulator, with the idle processes quiet beside
 * them; see bench/README.md for what each figure means.
 */
async function main(): Promise<void> {
  const startedAt = Date.now();
  // The workers rows run the gateway CLI as users do: its build, made now if out of date.
  buildCli(log);
  const emulator = await child<{ endpoint: string; control: string }>('./child-emulator.ts');
  const endpoint = emulator.info.endpoint;
  const { client: admin } = countingSqsClient(endpoint);
  if (values.only === 'workers') return await workersOnly(emulator, admin, startedAt);
  if (values.only === 'profile') return await profileOnly(endpoint, admin);
  if (values.only === 'sessions') return await sessionsOnly(endpoint, admin, emulator, startedAt);

  // Idle cost runs beside everything else, on queues nothing else touches.
  const idleRequestQueue = await queue(admin, 'idle-req');
  const idleServer = await child<{ control: string }>('./child-sqs-server.ts', {
    BENCH_ENDPOINT: endpoint,
    BENCH_REQUEST_QUEUE_URL: idleRequestQueue,
  });
  const idleGateway = await child<{ url: string; control: string }>('./child-gateway.ts', {
    BENCH_ENDPOINT: endpoint,
    BENCH_REQUEST_QUEUE_URL: idleRequestQueue,
  });
  await openIdleSessions(idleGateway.info.url, 1);
  const idleBefore = [
    await getJson(`${idleServer.info.control}/stats`),
    await getJson(`${idleGateway.info.control}/stats`),
  ];
  const idleStarted = performance.now();
  const idleStartedAt = Date.now();

  const floor = await rawFloor(endpoint, admin);
  const hop = await httpFloor();

  const http = await child<{ url: string; control: string }>('./child-http-server.ts');
  const baseline = await measurePath(
    PATH_SETTINGS,
    'baseline-http',
    () => connect(new StreamableHTTPClientTransport(new URL(http.info.url))),
    { server: http },
  );
  await http.stop();
  const { frontFloor, gatewayInProcess } = await frontFloors();

  const requestQueueUrl = await queue(admin, 'mcp-req');
  const sqsServer = await child<{ control: string }>('./child-sqs-server.ts', {
    BENCH_ENDPOINT: endpoint,
    BENCH_REQUEST_QUEUE_URL: requestQueueUrl,
  });
  const { client: clientSqs, counts: clientSqsCounts } = countingSqsClient(endpoint);
  const direct = await measurePath(
    PATH_SETTINGS,
    'direct-sqs',
    async () =>
      connect(
        new SqsClientTransport({
          sqsClient: clientSqs,
          requestQueueUrl,
          responseQueueUrl: await queue(admin, 'direct-resp'),
        }),
      ),
    { emulator, server: sqsServer },
    { local: clientSqsCounts },
  );
  const gateway = await child<{ url: string; control: string }>('./child-gateway.ts', {
    BENCH_ENDPOINT: endpoint,
    BENCH_REQUEST_QUEUE_URL: requestQueueUrl,
  });
  const viaGateway = await measurePath(
    PATH_SETTINGS,
    'gateway-sqs',
    () => connect(new StreamableHTTPClientTransport(new URL(gateway.info.url))),
    { emulator, server: sqsServer, gateway },
    {},
  );
  // The target's three latencies again, in turn (bench/README.md, "Latency in turn").
  const inTurn = await interleavedLatency({
    gatewayUrl: gateway.info.url,
    sqsClient: clientSqs,
    admin,
    requestQueueUrl,
  });
  await gateway.stop();

  let gatewayProfile: GatewayProfile | undefined;
  if (values.profile) {
    gatewayProfile = await gatewaySqsProfile(endpoint, requestQueueUrl);
  }

  // The same gateway answering with one JSON body per call instead of an SSE stream (--json-response).
  const jsonGateway = await child<{ url: string; control: string }>('./child-gateway.ts', {
    BENCH_ENDPOINT: endpoint,
    BENCH_REQUEST_QUEUE_URL: requestQueueUrl,
    BENCH_JSON_RESPONSE: 'true',
  });
  const viaJsonGateway = await measurePath(
    PATH_SETTINGS,
    'gateway-sqs-json',
    () => connect(new StreamableHTTPClientTransport(new URL(jsonGateway.info.url))),
    { emulator, server: sqsServer, gateway: jsonGateway },
    {},
  );
  await jsonGateway.stop();

  const sessions = await measureSessions(endpoint, admin, emulator);
  await sqsServer.stop();

  // The same pair over SNS topics fanned out to SQS queues.
  const { snsClient } = awsClients(endpoint);
  const topic = async (name: string) =>
    (await snsClient.send(new CreateTopicCommand({ Name: `${name}-${randomUUID()}` }))).TopicArn as string;
  const subscribedQueue = async (topicArn: string, name: string) => {
    const queueUrl = await queue(admin, name);
    const queueArn = `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split('/').at(-1)}`;
    await snsClient.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
    return queueUrl;
  };
  const requestTopicArn = await topic('sns-req');
  const snsRequestQueue = await subscribedQueue(requestTopicArn, 'sns-req');
  const snsServer = await child<{ control: string }>('./child-sqs-server.ts', {
    BENCH_ENDPOINT: endpoint,
    BENCH_BACKEND: 'sns-sqs',
    BENCH_REQUEST_QUEUE_URL: snsRequestQueue,
  });
  const { sqsClient: snsClientSqs, snsClient: snsClientSns, counts: snsClientCounts } = awsClients(endpoint);
  const directSns = await measurePath(
    PATH_SETTINGS,
    'direct-sns-sqs',
    async () => {
      const responseTopicArn = await topic('sns-resp');
      return connect(
        new SnsSqsClientTransport({
          snsClient: snsClientSns,
          sqsClient: snsClientSqs,
          requestTopicArn,
          responseTopicArn,
          responseQueueUrl: await subscribedQueue(responseTopicArn, 'sns-resp'),
        }),
      );
    },
    { emulator, server: snsServer },
    { local: snsClientCounts },
  );
  const snsGateway = await child<{ url: string; control: string }>('./child-gateway.ts', {
    BENCH_ENDPOINT: endpoint,
    BENCH_BACKEND: 'sns-sqs',
    BENCH_REQUEST_TOPIC_ARN: requestTopicArn,
  });
  const viaSnsGateway = await measurePath(
    PATH_SETTINGS,
    'gateway-sns-sqs',
    () => connect(new StreamableHTTPClientTransport(new URL(snsGateway.info.url))),
    { emulator, server: snsServer, gateway: snsGateway },
    {},
  );
  await snsGateway.stop();
  await snsServer.stop();

  // And over HTTP webhooks (no queue at all; the server POSTs answers back).
  const webhookServer = await child<{ url: string; control: string }>('./child-webhook-server.ts');
  const directWebhook = await measurePath(
    PATH_SETTINGS,
    'direct-webhook',
    () =>
      connect(
        new WebhookClientTransport({
          serverUrl: webhookServer.info.url,
          listen: { port: 0, host: '127.0.0.1' },
        }),
      ),
    { server: webhookServer },
  );
  const webhookGateway = await child<{ url: string; control: string }>('./child-gateway.ts', {
    BENCH_ENDPOINT: endpoint,
    BENCH_BACKEND: 'webhook',
    BENCH_SERVER_URL: webhookServer.info.url,
  });
  const viaWebhookGateway = await measurePath(
    PATH_SETTINGS,
    'gateway-webhook',
    () => connect(new StreamableHTTPClientTransport(new URL(webhookGateway.info.url))),
    { server: webhookServer, gateway: webhookGateway },
  );
  await webhookGateway.stop();
  await webhookServer.stop();

  // Several serve workers on one request queue, all the real CLI, their API calls counted.
  const workerRows = await measureWorkers(emulator, admin);

  // The idle processes have been quiet beside every path measured so far; wait out what is left of the
  // window only if the run was shorter.
  const remaining = IDLE_WINDOW_MS - (performance.now() - idleStarted);
  if (remaining > 0) {
    log(`• idle cost: waiting ${Math.ceil(remaining / 1000)} s more`);
    await new Promise((resolve) => setTimeout(resolve, remaining));
  }
  const idleSeconds = (performance.now() - idleStarted) / 1000;
  const idleAfter = [
    await getJson(`${idleServer.info.control}/stats`),
    await getJson(`${idleGateway.info.control}/stats`),
  ];
  const idle = idleCost({
    before: idleBefore,
    after: idleAfter,
    seconds: idleSeconds,
    startedAt: idleStartedAt,
  });

  await reportRun({
    measured: {
      floor,
      hop,
      baseline,
      frontFloor,
      gatewayInProcess,
      direct,
      viaGateway,
      viaJsonGateway,
      directSns,
      viaSnsGateway,
      directWebhook,
      viaWebhookGateway,
    },
    inTurn,
    sessions,
    workerRows,
    idle,
    gatewayProfile,
    startedAt,
  });
}

try {
  await main();
} finally {
  await Promise.allSettled(children.reverse().map((c) => c.stop()));
}
