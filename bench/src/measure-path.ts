import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getJson } from './get-json.js';
import { callConcurrently, echo } from './mcp-calls.js';
import { type LatencySummary, round, summarize, timeSequential } from './stats.js';

/** How many calls a path is measured with. */
export interface PathSettings {
  sequential: number;
  warmup: number;
  warmupPerSession: number;
  concurrentSessions: number;
  callsPerSession: number;
  /** Before each read of the counters: what the calls before set off (lingering deletes) is done. */
  settleMs: number;
  log: (line: string) => void;
}

export interface PathResult {
  name: string;
  latency: LatencySummary;
  throughput?: number;
  /** CPU milliseconds each process spent per call: during the sequential calls and with 32 sessions. */
  cpuMsPerCall?: { sequential: Record<string, number>; concurrent: Record<string, number> };
  /** SQS and SNS API requests per call, every process of the path (queue paths only). */
  apiCallsPerCall?: { sequential: number; concurrent: number; concurrentByProcess: ApiCallsByProcess };
}

/** Per process role, per command (`SendMessageBatchCommand`, …). */
type ApiCallsByProcess = Record<string, Record<string, number>>;

/** The processes of a path, by role, each with its control endpoint (the client is this process). */
export type PathParts = Record<string, { info: { control: string } }>;

interface Snapshot {
  cpu: Record<string, number>;
  apiCalls: ApiCallsByProcess;
}

/**
 * CPU time and API request counts of every process of a path, once what the calls before set off has
 * settled. `localApiCalls`: the counts of this process's own queue clients (a direct path's client).
 */
async function snapshot(
  settleMs: number,
  parts: PathParts,
  localApiCalls?: Record<string, number>,
): Promise<Snapshot> {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const { user, system } = process.cpuUsage();
  const cpu: Record<string, number> = { client: (user + system) / 1000 };
  const apiCalls: ApiCallsByProcess = localApiCalls ? { client: { ...localApiCalls } } : {};
  for (const [role, part] of Object.entries(parts)) {
    const stats = await getJson(`${part.info.control}/stats`);
    cpu[role] = Number(stats.cpuMs);
    if (stats.calls) apiCalls[role] = { ...(stats.calls as Record<string, number>) };
  }
  return { cpu, apiCalls };
}

function perCall(before: Record<string, number>, after: Record<string, number>, calls: number) {
  return Object.fromEntries(
    Object.entries(after).map(([role, ms]) => [role, round((ms - (before[role] ?? 0)) / calls)]),
  );
}

function apiCallsPerCall(before: Snapshot, after: Snapshot, calls: number) {
  const byProcess: ApiCallsByProcess = {};
  let total = 0;
  for (const [role, counts] of Object.entries(after.apiCalls)) {
    const deltas = perCall(before.apiCalls[role] ?? {}, counts, calls);
    const made = Object.entries(deltas).filter(([, perCallCount]) => perCallCount > 0);
    if (made.length > 0) byProcess[role] = Object.fromEntries(made);
    total += Object.entries(counts).reduce(
      (sum, [command, count]) => sum + count - (before.apiCalls[role]?.[command] ?? 0),
      0,
    );
  }
  return { total: round(total / calls), byProcess };
}

/**
 * Warms the path up (sequential calls, then every session at once, so the code under load is compiled
 * too), then times SEQUENTIAL sequential calls and concurrentSessions sessions calling at once.
 */
export async function measurePath(
  settings: PathSettings,
  name: string,
  open: () => Promise<Client>,
  parts: PathParts,
  /** Queue paths: count their API requests, these being the counts of this process's own clients. */
  apiCalls?: { local?: Record<string, number> },
): Promise<PathResult> {
  const { sequential, warmup, warmupPerSession, concurrentSessions, callsPerSession, settleMs, log } =
    settings;
  log(`• ${name}: warm-up`);
  const client = await open();
  const clients = await Promise.all(Array.from({ length: concurrentSessions }, () => open()));
  await timeSequential(warmup, (i) => echo(client, i));
  await callConcurrently(clients, warmupPerSession);
  log(`• ${name}: latency`);
  const beforeSequential = await snapshot(settleMs, parts, apiCalls?.local);
  const latency = summarize(await timeSequential(sequential, (i) => echo(client, i)));
  const afterSequential = await snapshot(settleMs, parts, apiCalls?.local);
  await client.close();
  log(`• ${name}: throughput with ${concurrentSessions} sessions`);
  const before = await snapshot(settleMs, parts, apiCalls?.local);
  const started = performance.now();
  await callConcurrently(clients, callsPerSession);
  const seconds = (performance.now() - started) / 1000;
  const calls = concurrentSessions * callsPerSession;
  const after = await snapshot(settleMs, parts, apiCalls?.local);
  await Promise.all(clients.map((c) => c.close()));
  const concurrentApiCalls = apiCallsPerCall(before, after, calls);
  return {
    name,
    latency,
    throughput: round(calls / seconds, 1),
    cpuMsPerCall: {
      sequential: perCall(beforeSequential.cpu, afterSequential.cpu, sequential),
      concurrent: perCall(before.cpu, after.cpu, calls),
    },
    ...(apiCalls
      ? {
          apiCallsPerCall: {
            sequential: apiCallsPerCall(beforeSequential, afterSequential, sequential).total,
            concurrent: concurrentApiCalls.total,
            concurrentByProcess: concurrentApiCalls.byProcess,
          },
        }
      : {}),
  };
}
