import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SnsSqsClientTransport } from '@asyncmcp/sns-sqs';
import { SqsClientTransport } from '@asyncmcp/sqs';
import { WebhookClientTransport } from '@asyncmcp/webhook';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { awsClients } from './aws-clients.js';
import { latencyChart } from './chart.js';
import { type Child, startChild } from './child-process.js';
import { buildCli } from './cli-process.js';
import { countingSqsClient } from './counting-sqs-client.js';
import { getJson } from './get-json.js';
import { connect } from './mcp-calls.js';
import { measurePath, type PathResult, type PathSettings } from './measure-path.js';
import { printTable } from './print-table.js';
import { type GatewayProfile, printGatewayProfile, profileGateway } from './profile-gateway.js';
import { round, summarize, timeSequential } from './stats.js';
import { checkTargets, printTargets } from './targets.js';
import { measureWorkersRow, type WorkersRow, type WorkersRowSpec } from './workers.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sessions: { type: 'string' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});
const quick = values.quick ?? false;
if (values.only !== undefined && values.only !== 'workers' && values.only !== 'profile') {
  throw new Error(
    `--only takes "workers" (the workers rows alone) or "profile" (the gateway's CPU profile alone), not "${values.only}"`,
  );
}
const SEQUENTIAL = quick ? 200 : 500;
const WARMUP = quick ? 100 : 300;
const WARMUP_PER_SESSION = quick ? 5 : 10;
const CONCURRENT_SESSIONS = 32;
const CALLS_PER_SESSION = quick ? 15 : 60;
const IDLE_SESSIONS = Number(values.sessions ?? (quick ? 200 : 1000));
const IDLE_WINDOW_MS = quick ? 41_000 : 60_000;
// Workers: serve × 1 and × 3 on one request queue (--quick: over SQS only, fewer sessions and calls).
const WORKER_SESSIONS = quick ? 6 : 12;
const WORKER_CALLS_PER_SESSION = quick ? 4 : 10;
const WORKER_WARMUP_PER_SESSION = quick ? 5 : 40;
const PROFILE_DIRECTORY = new URL('../results/profiles/', import.meta.url).pathname;

type Json = Record<string, unknown>;
const children: Array<Child<unknown>> = [];
const log = (line: string) => process.stderr.write(`${line}\n`);
const PATH_SETTINGS: PathSettings = {
  sequential: SEQUENTIAL,
  warmup: WARMUP,
  warmupPerSession: WARMUP_PER_SESSION,
  concurrentSessions: CONCURRENT_SESSIONS,
  callsPerSession: CALLS_PER_SESSION,
  settleMs: 300,
  log,
};

async function child<I>(
  script: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<Child<I>> {
  const started = await startChild<I>(script, env, nodeArgs);
  children.push(started as Child<unknown>);
  return started;
}

async function queue(sqs: SQSClient, name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${randomUUID()}` }));
  return QueueUrl as string;
}

async function rawFloor(endpoint: string, admin: SQSClient): Promise<PathResult> {
  log('• raw-floor');
  const requestQueueUrl = await queue(admin, 'raw-req');
  const responseQueueUrl = await queue(admin, 'raw-resp');
  const responder = await child('./child-raw-responder.ts', {
    BENCH_ENDPOINT: endpoint,
    BENCH_REQUEST_QUEUE_URL: requestQueueUrl,
    BENCH_RESPONSE_QUEUE_URL: responseQueueUrl,
  });
  const { client } = countingSqsClient(endpoint);
  const roundTrip = async (index: number) => {
    await client.send(new SendMessageCommand({ QueueUrl: requestQueueUrl, MessageBody: `{"n":${index}}` }));
    for (;;) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: responseQueueUrl,
          WaitTimeSeconds: 20,
          MaxNumberOfMessages: 1,
        }),
      );
      const message = Messages[0];
      if (!message) continue;
      await client.send(
        new DeleteMessageCommand({ QueueUrl: responseQueueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      return;
    }
  };
  await timeSequential(WARMUP, roundTrip);
  const latency = summarize(await timeSequential(SEQUENTIAL, roundTrip));
  await responder.stop();
  return { name: 'raw-floor', latency };
}

/** One POST round trip with fetch (what the SDK client sends with) to a bare Node echo server. */
async function httpFloor(): Promise<PathResult> {
  log('• http-floor');
  const echoServer = await child<{ url: string }>('./child-http-echo.ts');
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } });
  const roundTrip = async () => {
    const response = await fetch(echoServer.info.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await response.text();
  };
  await timeSequential(WARMUP, roundTrip);
  const latency = summarize(await timeSequential(SEQUENTIAL, roundTrip));
  await echoServer.stop();
  return { name: 'http-floor', latency };
}

/** Opens idle sessions with bare HTTP (no client objects), so the heap measured is the gateway's. */
async function openIdleSessions(url: string, count: number): Promise<number> {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'idle', version: '1' },
    },
  });
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const response = await fetch(url, { method: 'POST', headers, body });
      const sessionId = response.headers.get('mcp-session-id') as string;
      await response.text();
      const initialized = await fetch(url, {
        method: 'POST',
        headers: { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      });
      await initialized.text();
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return performance.now() - started;
}

interface WorkersFigures {
  sqs: { one: WorkersRow; three: WorkersRow; threeWithoutInbox: WorkersRow | null };
  /** null with --quick. */
  snsSqs: { one: WorkersRow | null; three: WorkersRow | null };
}

/** The workers rows: 1 and 3 serve workers on one queue, and 3 without inboxes (the design before). */
async function measureWorkers(
  emulator: Child<{ endpoint: string; control: string }>,
  admin: SQSClient,
): Promise<WorkersFigures & { durationSeconds: number }> {
  const proxy = await child<{ endpoints: { gateway: string; workers: string }; control: string }>(
    './child-counting-proxy.ts',
    { BENCH_UPSTREAM: emulator.info.endpoint },
  );
  const env = {
    admin: { sqs: admin, sns: awsClients(emulator.info.endpoint).snsClient },
    endpoints: proxy.info.endpoints,
    proxyControl: proxy.info.control,
    emulatorControl: emulator.info.control,
    settings: {
      sessions: WORKER_SESSIONS,
      callsPerSession: WORKER_CALLS_PER_SESSION,
      warmupCallsPerSession: WORKER_WARMUP_PER_SESSION,
    },
    log,
  };
  const started = performance.now();
  const row = (spec: WorkersRowSpec) => measureWorkersRow(env, spec);
  const withoutInbox = ['--inbox', 'none', '--release-unknown-sessions', '30'];
  const figures: WorkersFigures = {
    sqs: {
      one: await row({ backend: 'sqs', workers: 1 }),
      three: await row({ backend: 'sqs', workers: 3 }),
      threeWithoutInbox: quick ? null : await row({ backend: 'sqs', workers: 3, serveFlags: withoutInbox }),
    },
    snsSqs: {
      one: quick ? null : await row({ backend: 'sns-sqs', workers: 1 }),
      three: quick ? null : await row({ backend: 'sns-sqs', workers: 3 }),
    },
  };
  await proxy.stop();
  return { ...figures, durationSeconds: round((performance.now() - started) / 1000, 1) };
}

/** 3 workers against 1: API calls per tools/call, and p50. */
function threeOverOne(one: WorkersRow | null, three: WorkersRow | null) {
  if (!one || !three) return { threeOverOneCallsPerCall: null, threeOverOneP50: null };
  return {
    threeOverOneCallsPerCall: round(three.apiCallsPerCall / one.apiCallsPerCall),
    threeOverOneP50: round(three.latency.p50 / one.latency.p50),
  };
}

type WorkersResults = WorkersFigures & {
  sessions: number;
  callsPerSession: number;
  sqs: ReturnType<typeof threeOverOne>;
  snsSqs: ReturnType<typeof threeOverOne>;
};

function printWorkers(workers: WorkersResults): void {
  const rows: Array<[string, WorkersRow | null]> = [
    ['sqs, 1 worker', workers.sqs.one],
    ['sqs, 3 workers', workers.sqs.three],
    ['sqs, 3 workers, --inbox none', workers.sqs.threeWithoutInbox],
    ['sns-sqs, 1 worker', workers.snsSqs.one],
    ['sns-sqs, 3 workers', workers.snsSqs.three],
  ];
  const table = [
    [
      `workers (${workers.sessions} sessions × ${workers.callsPerSession} calls at once)`,
      'API calls/call',
      'p50 ms',
      'p95 ms',
      'failed',
      'sessions per worker',
      'API calls per call by operation',
    ],
    ...rows
      .filter((entry): entry is [string, WorkersRow] => entry[1] !== null)
      .map(([name, row]) => [
        name,
        String(row.apiCallsPerCall),
        String(row.latency.p50),
        String(row.latency.p95),
        String(row.failedCalls),
        row.sessionsPerWorker.join(' / '),
        Object.entries(row.apiCallsPerCallByOperation)
          .map(([operation, count]) => `${operation} ${count}`)
          .join(', '),
      ]),
  ];
  printTable(table);
  for (const [name, ratios] of [
    ['SQS', workers.sqs],
    ['SNS+SQS', workers.snsSqs],
  ] as const) {
    if (ratios.threeOverOneCallsPerCall === null) continue;
    console.log(
      `3 ÷ 1 workers, ${name}: API calls per call ${ratios.threeOverOneCallsPerCall}, p50 ${ratios.threeOverOneP50}`,
    );
  }
}

/** `--only workers`: the workers rows alone, written to results/workers.json (latest.json is left as it is). */
async function workersOnly(
  emulator: Child<{ endpoint: string; control: string }>,
  admin: SQSClient,
  startedAt: number,
): Promise<void> {
  const rows = await measureWorkers(emulator, admin);
  const workers: WorkersResults = {
    sessions: WORKER_SESSIONS,
    callsPerSession: WORKER_CALLS_PER_SESSION,
    ...rows,
    sqs: { ...rows.sqs, ...threeOverOne(rows.sqs.one, rows.sqs.three) },
    snsSqs: { ...rows.snsSqs, ...threeOverOne(rows.snsSqs.one, rows.snsSqs.three) },
  };
  printWorkers(workers);
  const out = new URL('../results/', import.meta.url);
  await mkdir(out, { recursive: true });
  const results = { startedAt: new Date(startedAt).toISOString(), node: process.version, workers };
  await writeFile(new URL('workers.json', out), `${JSON.stringify(results, null, 2)}\n`);
  log(`results written to bench/results/workers.json (${rows.durationSeconds} s)`);
}

/** The gateway-sqs path's gateway under `node --cpu-prof`, given the concurrent load of the path. */
async function gatewaySqsProfile(endpoint: string, requestQueueUrl: string): Promise<GatewayProfile> {
  return await profileGateway({
    startGateway: (nodeArgs) =>
      child(
        './child-gateway.ts',
        { BENCH_ENDPOINT: endpoint, BENCH_REQUEST_QUEUE_URL: requestQueueUrl },
        nodeArgs,
      ),
    open: (url) => connect(new StreamableHTTPClientTransport(new URL(url))),
    sessions: CONCURRENT_SESSIONS,
    // More than a path's warm-up: the profile is for the code as it runs once optimised.
    warmupCallsPerSession: WARMUP_PER_SESSION * 3,
    callsPerSession: CALLS_PER_SESSION,
    directory: PROFILE_DIRECTORY,
    log,
  });
}

/** `--only profile`: the gateway's CPU profile alone, with the SQS server it needs; no figures written. */
async function profileOnly(endpoint: string, admin: SQSClient): Promise<void> {
  const requestQueueUrl = await queue(admin, 'mcp-req');
  await child('./child-sqs-server.ts', {
    BENCH_ENDPOINT: endpoint,
    BENCH_REQUEST_QUEUE_URL: requestQueueUrl,
  });
  printGatewayProfile(await gatewaySqsProfile(endpoint, requestQueueUrl));
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  // The workers rows run the gateway CLI as users do: its build, made now if out of date.
  buildCli(log);
  const emulator = await child<{ endpoint: string; control: string }>('./child-emulator.ts');
  const endpoint = emulator.info.endpoint;
  const { client: admin } = countingSqsClient(endpoint);
  if (values.only === 'workers') return await workersOnly(emulator, admin, startedAt);
  if (values.only === 'profile') return await profileOnly(endpoint, admin);

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

  log(`• sessions: ${IDLE_SESSIONS} idle gateway sessions over one response queue`);
  const sessionGateway = await child<{ url: string; control: string }>('./child-gateway.ts', {
    BENCH_ENDPOINT: endpoint,
    BENCH_REQUEST_QUEUE_URL: requestQueueUrl,
    BENCH_MAX_SESSIONS: String(Math.max(100_000, IDLE_SESSIONS + 1)),
  });
  await openIdleSessions(sessionGateway.info.url, 1);
  const heapBefore = Number((await getJson(`${sessionGateway.info.control}/heap`)).heapUsed);
  const openMs = await openIdleSessions(sessionGateway.info.url, IDLE_SESSIONS);
  const heapAfter = Number((await getJson(`${sessionGateway.info.control}/heap`)).heapUsed);
  const sessionStats = await getJson(`${sessionGateway.info.control}/stats`);
  await sessionGateway.stop();
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
  // Receives started in the window: their rate, and the shortest gap between two of them (a quiet
  // process long-polls back to back, so that gap is the long poll's 20 s).
  const receiveGaps = (stats: Json) => {
    const times = (stats.receiveTimes as number[]).filter((time) => time >= idleStartedAt);
    return times.slice(1).map((time, index) => (time - (times[index] as number)) / 1000);
  };
  const idleFigures = (stats: Json) => {
    const gaps = receiveGaps(stats);
    const mean = gaps.reduce((sum, gap) => sum + gap, 0) / Math.max(1, gaps.length);
    return {
      receivesPer20s: gaps.length > 0 ? round(20 / mean, 2) : null,
      shortestGapSeconds: gaps.length > 0 ? round(Math.min(...gaps), 2) : null,
    };
  };
  const totalCalls = (stats: Json) =>
    Object.values(stats.calls as Record<string, number>).reduce((a, b) => a + b, 0);
  const serverIdle = idleFigures(idleAfter[0] as Json);
  const gatewayIdle = idleFigures(idleAfter[1] as Json);
  const idle = {
    windowSeconds: round(idleSeconds, 1),
    serverReceivesPer20s: serverIdle.receivesPer20s,
    serverShortestGapSeconds: serverIdle.shortestGapSeconds,
    gatewayReceivesPer20s: gatewayIdle.receivesPer20s,
    gatewayShortestGapSeconds: gatewayIdle.shortestGapSeconds,
    gatewayApiCallsPerMinute: round(
      (totalCalls(idleAfter[1] as Json) - totalCalls(idleBefore[1] as Json)) * (60 / idleSeconds),
      2,
    ),
  };

  const paths = [
    floor,
    hop,
    baseline,
    direct,
    viaGateway,
    viaJsonGateway,
    directSns,
    viaSnsGateway,
    directWebhook,
    viaWebhookGateway,
  ];
  const results = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    node: process.version,
    machine: { cpus: (await import('node:os')).cpus().length },
    settings: {
      sequentialCalls: SEQUENTIAL,
      warmup: WARMUP,
      warmupCallsPerSession: WARMUP_PER_SESSION,
      concurrentSessions: CONCURRENT_SESSIONS,
      callsPerSession: CALLS_PER_SESSION,
    },
    paths,
    // The targets' figures (issue #17), each from what this run measured; `targets` says which are met.
    gatewayCpuMsPerCall: viaGateway.cpuMsPerCall?.concurrent.gateway ?? Number.NaN,
    gatewayAddedOverHttpFloorP50Ms: round(viaGateway.latency.p50 - direct.latency.p50 - hop.latency.p50),
    sqsCallsPerToolCall: {
      concurrent: viaGateway.apiCallsPerCall?.concurrent ?? Number.NaN,
      sequential: viaGateway.apiCallsPerCall?.sequential ?? Number.NaN,
      concurrentByProcess: viaGateway.apiCallsPerCall?.concurrentByProcess ?? {},
    },
    sessions100k: {
      sessions: IDLE_SESSIONS,
      heapBytesPerSession: Math.round((heapAfter - heapBefore) / IDLE_SESSIONS),
      openedPerSecond: round(IDLE_SESSIONS / (openMs / 1000), 1),
    },
    gatewayOverDirectThroughput: {
      sqs: round((viaGateway.throughput ?? 0) / (direct.throughput ?? 1)),
      snsSqs: round((viaSnsGateway.throughput ?? 0) / (directSns.throughput ?? 1)),
      webhook: round((viaWebhookGateway.throughput ?? 0) / (directWebhook.throughput ?? 1)),
    },
    // Reported figures, not targets.
    gatewayOverDirectP50: round(viaGateway.latency.p50 / direct.latency.p50),
    gatewayOverRawFloorP50: round(viaGateway.latency.p50 / floor.latency.p50),
    gatewayAddedLatencyP50Ms: round(viaGateway.latency.p50 - direct.latency.p50),
    // The least any HTTP hop adds here: gateway ÷ direct at p50 can be no better than this.
    bestPossibleGatewayOverDirectP50: round((direct.latency.p50 + hop.latency.p50) / direct.latency.p50),
    // What one gateway would carry with a core to itself: the machine here also runs the emulator, the
    // server and the measuring client on its two cores.
    gatewayCallsPerCoreSecond: round(1000 / (viaGateway.cpuMsPerCall?.concurrent.gateway ?? Number.NaN), 1),
    jsonResponse: {
      gatewayOverDirectP50: round(viaJsonGateway.latency.p50 / direct.latency.p50),
      gatewayAddedLatencyP50Ms: round(viaJsonGateway.latency.p50 - direct.latency.p50),
      gatewayOverRawFloorP50: round(viaJsonGateway.latency.p50 / floor.latency.p50),
      gatewayOverDirectThroughput: round((viaJsonGateway.throughput ?? 0) / (direct.throughput ?? 1)),
      gatewayCallsPerCoreSecond: round(
        1000 / (viaJsonGateway.cpuMsPerCall?.concurrent.gateway ?? Number.NaN),
        1,
      ),
    },
    snsSqs: {
      gatewayOverDirectP50: round(viaSnsGateway.latency.p50 / directSns.latency.p50),
      gatewayOverDirectThroughput: round((viaSnsGateway.throughput ?? 0) / (directSns.throughput ?? 1)),
    },
    webhook: {
      gatewayOverDirectP50: round(viaWebhookGateway.latency.p50 / directWebhook.latency.p50),
      gatewayOverDirectThroughput: round(
        (viaWebhookGateway.throughput ?? 0) / (directWebhook.throughput ?? 1),
      ),
    },
    workers: {
      sessions: WORKER_SESSIONS,
      callsPerSession: WORKER_CALLS_PER_SESSION,
      warmupCallsPerSession: WORKER_WARMUP_PER_SESSION,
      sqs: { ...workerRows.sqs, ...threeOverOne(workerRows.sqs.one, workerRows.sqs.three) },
      snsSqs: { ...workerRows.snsSqs, ...threeOverOne(workerRows.snsSqs.one, workerRows.snsSqs.three) },
      // Every row's: the target is none.
      failedCalls: [
        workerRows.sqs.one,
        workerRows.sqs.three,
        workerRows.sqs.threeWithoutInbox,
        workerRows.snsSqs.one,
        workerRows.snsSqs.three,
      ].reduce((total, row) => total + (row?.failedCalls ?? 0), 0),
      durationSeconds: workerRows.durationSeconds,
    },
    sessions: {
      opened: IDLE_SESSIONS,
      openSeconds: round(openMs / 1000, 2),
      heapPerSessionKiB: round((heapAfter - heapBefore) / IDLE_SESSIONS / 1024, 2),
      liveOnGateway: sessionStats.sessions,
    },
    idle,
    ...(gatewayProfile ? { gatewayProfile } : {}),
    durationSeconds: round((Date.now() - startedAt) / 1000, 1),
  };
  const targets = checkTargets(results);

  const cpu = (p: PathResult, role: string) => String(p.cpuMsPerCall?.concurrent[role] ?? '—');
  const table = [
    [
      'path',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'calls/s (32 sessions)',
      'CPU ms/call: client',
      'gateway',
      'server',
      'emulator',
    ],
    ...paths.map((p) => [
      p.name,
      String(p.latency.p50),
      String(p.latency.p95),
      String(p.latency.p99),
      String(p.throughput ?? '—'),
      cpu(p, 'client'),
      cpu(p, 'gateway'),
      cpu(p, 'server'),
      cpu(p, 'emulator'),
    ]),
  ];
  printTable(table);
  console.log('');
  console.log(
    `gateway ÷ direct p50          ${results.gatewayOverDirectP50}  (added ${results.gatewayAddedLatencyP50Ms} ms)`,
  );
  console.log(`gateway ÷ direct throughput   ${results.gatewayOverDirectThroughput.sqs}`);
  console.log(`gateway ÷ raw floor p50       ${results.gatewayOverRawFloorP50}`);
  console.log(
    `bare HTTP hop p50             ${hop.latency.p50} ms  (best possible gateway ÷ direct: ${results.bestPossibleGatewayOverDirectP50})`,
  );
  console.log(`gateway calls per CPU-second  ${results.gatewayCallsPerCoreSecond}  (32 sessions)`);
  console.log(
    `sessions                      ${IDLE_SESSIONS} opened in ${results.sessions.openSeconds} s, ${results.sessions.heapPerSessionKiB} KiB heap each`,
  );
  console.log(
    `idle (${idle.windowSeconds} s)               ReceiveMessage per 20 s per queue: server ${idle.serverReceivesPer20s}, gateway ${idle.gatewayReceivesPer20s} (shortest gaps ${idle.serverShortestGapSeconds} s, ${idle.gatewayShortestGapSeconds} s)`,
  );

  console.log('');
  printWorkers(results.workers);
  console.log('');
  printTargets(targets);
  if (gatewayProfile) {
    console.log('');
    printGatewayProfile(gatewayProfile);
  }

  const out = new URL('../results/', import.meta.url);
  await mkdir(out, { recursive: true });
  const name = 'latest';
  await writeFile(new URL(`${name}.json`, out), `${JSON.stringify({ ...results, targets }, null, 2)}\n`);
  await writeFile(new URL(`${name}-latency.svg`, out), latencyChart(paths));
  log(`results written to bench/results/${name}.json and ${name}-latency.svg (${results.durationSeconds} s)`);
}

try {
  await main();
} finally {
  await Promise.allSettled(children.reverse().map((c) => c.stop()));
}
