import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CliProcess } from './cli-process.js';
import { getJson } from './get-json.js';
import { descendantsOf, totalCpuMs } from './proc-cpu.js';
import { type LatencySummary, round, summarize } from './stats.js';

/**
 * The workers measurement: `asyncmcp-proxy serve` × N on one request queue and the gateway CLI in front,
 * all of it the built CLI as users run it, SDK clients through the gateway. Every SQS and SNS call of
 * those processes goes through the counting proxy in front of the emulator (child-counting-proxy.ts), so
 * the calls a tools/call costs are counted where they arrive, whoever makes them.
 */

/** Between two sessions' initialize requests. */
const SESSION_STAGGER_MS = 60;
/** Before each snapshot of the counters: what the calls before set off (their deletes) is done. */
const SETTLE_MS = 300;

const STDIO_SERVER = fileURLToPath(new URL('./bench-stdio-server.mjs', import.meta.url));

export interface WorkersSettings {
  sessions: number;
  callsPerSession: number;
  warmupCallsPerSession: number;
}

export interface WorkersRowSpec {
  backend: 'sqs' | 'sns-sqs';
  workers: number;
  /** Extra `serve` flags (`--inbox none --release-unknown-sessions 30`). */
  serveFlags?: string[];
}

export interface WorkersRow {
  backend: 'sqs' | 'sns-sqs';
  workers: number;
  serveFlags: string[];
  /** Sessions each worker opened (its "session opened" log lines). */
  sessionsPerWorker: number[];
  calls: number;
  failedCalls: number;
  /** Warm-up calls that failed (before the measured window). */
  failedWarmupCalls: number;
  /** The first failure's message, warm-up or measured, if any. */
  firstError?: string;
  /** tools/call latency (ms), every session calling at once. */
  latency: LatencySummary;
  /** tools/call per second over the window. */
  throughput: number;
  /** From the counters' snapshot before the calls to the one after (the settle after them included). */
  windowSeconds: number;
  /** SQS + SNS API calls of every process on the path (gateway and workers) per tools/call. */
  apiCallsPerCall: number;
  /** The same by operation (ReceiveMessage, SendMessageBatch, …), every process together. */
  apiCallsPerCallByOperation: Record<string, number>;
  /** The same by process role (gateway, workers), then operation. */
  apiCallsPerCallByRole: Record<string, Record<string, number>>;
  /** ReceiveMessage calls in the window that came back empty (a long poll ending idle, a lost race). */
  emptyReceives: number;
  /**
   * CPU milliseconds per tools/call of each part: the measuring client, the gateway, the serve workers,
   * the stdio servers they run, the counting proxy and the emulator. Absent where /proc is not there.
   */
  cpuMsPerCall?: Record<string, number>;
}

interface ProxyStats {
  calls: Record<string, Record<string, number>>;
  emptyReceives: Record<string, number>;
  cpuMs: number;
}

export interface WorkersEnvironment {
  /** Clients of the emulator itself, for creating queues and topics (not counted). */
  admin: { sqs: SQSClient; sns: SNSClient };
  /** The counting proxy's endpoint for each role. */
  endpoints: { gateway: string; workers: string };
  /** The counting proxy's control endpoint. */
  proxyControl: string;
  /** The emulator's control endpoint (its CPU time). */
  emulatorControl: string;
  settings: WorkersSettings;
  log: (line: string) => void;
}

/** Calls in the window, by role and operation. */
function callsBetween(before: ProxyStats, after: ProxyStats): Record<string, Record<string, number>> {
  const byRole: Record<string, Record<string, number>> = {};
  for (const [role, counts] of Object.entries(after.calls)) {
    const deltas: Record<string, number> = {};
    for (const [operation, count] of Object.entries(counts)) {
      const delta = count - (before.calls[role]?.[operation] ?? 0);
      if (delta !== 0) deltas[operation] = delta;
    }
    if (Object.keys(deltas).length > 0) byRole[role] = deltas;
  }
  return byRole;
}

const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);

/** Counts per call, operations in name order. */
function perCall(counts: Record<string, number>, calls: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([operation, count]) => [operation, round(count / calls)]),
  );
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where the request goes: the serve workers' request queue, and for sns-sqs the topic it is subscribed to. */
async function requestDestination(env: WorkersEnvironment, backend: 'sqs' | 'sns-sqs') {
  const { admin } = env;
  const { QueueUrl } = await admin.sqs.send(
    new CreateQueueCommand({ QueueName: `workers-req-${randomUUID()}` }),
  );
  const queueUrl = QueueUrl as string;
  if (backend === 'sqs') return { queueUrl, gatewayFlags: ['--request-queue-url', queueUrl] };
  const { TopicArn } = await admin.sns.send(new CreateTopicCommand({ Name: `workers-req-${randomUUID()}` }));
  await admin.sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split('/').at(-1)}`,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return { queueUrl, gatewayFlags: ['--request-topic-arn', TopicArn as string] };
}

/**
 * One row: start the workers and the gateway, open the sessions, warm up, then every session makes its
 * calls at once while the counters run; every process started is stopped before it returns.
 */
export async function measureWorkersRow(env: WorkersEnvironment, spec: WorkersRowSpec): Promise<WorkersRow> {
  const { endpoints, settings, log } = env;
  const serveFlags = spec.serveFlags ?? [];
  const label = `${spec.backend}, ${spec.workers} worker${spec.workers > 1 ? 's' : ''}${serveFlags.length > 0 ? ` ${serveFlags.join(' ')}` : ''}`;
  log(`• workers (${label})`);
  const destination = await requestDestination(env, spec.backend);
  const aws = (endpoint: string) => ['--endpoint-url', endpoint, '--region', 'us-east-1'];

  const processes: CliProcess[] = [];
  const clients: Client[] = [];
  try {
    const workers = Array.from({ length: spec.workers }, (_, index) => {
      const worker = new CliProcess(`serve worker ${index + 1}`, [
        'serve',
        '--backend',
        spec.backend,
        '--request-queue-url',
        destination.queueUrl,
        ...aws(endpoints.workers),
        ...serveFlags,
        '--',
        process.execPath,
        STDIO_SERVER,
      ]);
      processes.push(worker);
      return worker;
    });
    const gateway = new CliProcess('gateway', [
      '--backend',
      spec.backend,
      ...destination.gatewayFlags,
      ...aws(endpoints.gateway),
      '--port',
      '0',
    ]);
    processes.push(gateway);
    await Promise.all(workers.map((worker) => worker.waitForLog('serving')));
    const url = new URL(String((await gateway.waitForLog('gateway listening')).url));

    // Staggered, so each initialize goes on its own to whichever worker is waiting on the request queue
    // and the sessions spread over the workers (sent together, one worker's receive could take ten).
    clients.push(
      ...(await Promise.all(
        Array.from({ length: settings.sessions }, async (_, index) => {
          await pause(index * SESSION_STAGGER_MS);
          const client = new Client({ name: 'bench-workers', version: '1.0.0' });
          await client.connect(new StreamableHTTPClientTransport(url));
          return client;
        }),
      )),
    );
    const sessionsPerWorker = workers.map((worker) => worker.count('session opened'));

    const call = async (client: Client, text: string) => {
      const result = await client.callTool({ name: 'echo', arguments: { text } }, undefined, {
        timeout: 30_000,
      });
      if ((result.content as Array<{ text: string }>)[0]?.text !== text) throw new Error('wrong answer');
    };
    // A failed warm-up call is counted and reported like a measured one; it does not end the run.
    let failedWarmupCalls = 0;
    let firstError: string | undefined;
    await Promise.all(
      clients.map(async (client, session) => {
        for (let index = 0; index < settings.warmupCallsPerSession; index++) {
          try {
            await call(client, `w${session}.${index}`);
          } catch (error) {
            failedWarmupCalls++;
            firstError ??= error instanceof Error ? error.message : String(error);
          }
        }
      }),
    );

    log(
      `• workers (${label}): sessions on ${sessionsPerWorker.join(' / ')}, ${settings.sessions} × ${settings.callsPerSession} calls`,
    );
    const workerPids = workers.map((worker) => worker.child.pid as number);
    const servers = descendantsOf(workerPids);
    const cpu = async () => {
      const { user, system } = process.cpuUsage();
      const parts = {
        client: (user + system) / 1000,
        gateway: totalCpuMs([gateway.child.pid as number]),
        workers: totalCpuMs(workerPids),
        servers: totalCpuMs(servers),
        proxy: (await getJson<ProxyStats>(`${env.proxyControl}/stats`)).cpuMs,
        emulator: (await getJson<{ cpuMs: number }>(`${env.emulatorControl}/stats`)).cpuMs,
      };
      return Object.values(parts).some((ms) => ms === undefined)
        ? undefined
        : (parts as Record<string, number>);
    };

    await pause(SETTLE_MS);
    const before = await getJson<ProxyStats>(`${env.proxyControl}/stats`);
    const cpuBefore = await cpu();
    const started = performance.now();
    const samples: number[] = [];
    let failedCalls = 0;
    await Promise.all(
      clients.map(async (client, session) => {
        for (let index = 0; index < settings.callsPerSession; index++) {
          const callStarted = performance.now();
          try {
            await call(client, `m${session}.${index}`);
            samples.push(performance.now() - callStarted);
          } catch (error) {
            failedCalls++;
            firstError ??= error instanceof Error ? error.message : String(error);
          }
        }
      }),
    );
    const callsSeconds = (performance.now() - started) / 1000;
    await pause(SETTLE_MS);
    const after = await getJson<ProxyStats>(`${env.proxyControl}/stats`);
    const cpuAfter = await cpu();
    const windowSeconds = (performance.now() - started) / 1000;

    const calls = settings.sessions * settings.callsPerSession;
    const byRole = callsBetween(before, after);
    const byOperation: Record<string, number> = {};
    for (const counts of Object.values(byRole)) {
      for (const [operation, count] of Object.entries(counts)) {
        byOperation[operation] = (byOperation[operation] ?? 0) + count;
      }
    }
    return {
      backend: spec.backend,
      workers: spec.workers,
      serveFlags,
      sessionsPerWorker,
      calls,
      failedCalls,
      failedWarmupCalls,
      ...(firstError === undefined ? {} : { firstError }),
      latency: summarize(samples),
      throughput: round(calls / callsSeconds, 1),
      windowSeconds: round(windowSeconds, 2),
      apiCallsPerCall: round(sum(Object.values(byOperation)) / calls),
      apiCallsPerCallByOperation: perCall(byOperation, calls),
      apiCallsPerCallByRole: Object.fromEntries(
        Object.entries(byRole)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([role, counts]) => [role, perCall(counts, calls)]),
      ),
      emptyReceives: sum(
        Object.entries(after.emptyReceives).map(([role, count]) => count - (before.emptyReceives[role] ?? 0)),
      ),
      ...(cpuBefore && cpuAfter
        ? {
            cpuMsPerCall: Object.fromEntries(
              Object.entries(cpuAfter).map(([part, ms]) => [
                part,
                round((ms - (cpuBefore[part] ?? 0)) / calls),
              ]),
            ),
          }
        : {}),
    };
  } finally {
    await Promise.allSettled(clients.map((client) => client.close()));
    // All at once: the gateway ends its sessions, the workers theirs and their servers' processes.
    await Promise.allSettled(processes.map((child) => child.stop()));
  }
}
