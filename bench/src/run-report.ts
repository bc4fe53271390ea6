import { mkdir, writeFile } from 'node:fs/promises';
import { boundsOf, printBounds } from './bounds.js';
import { latencyChart } from './chart.js';
import type { idleCost } from './idle-cost.js';
import type { InterleavedLatency } from './interleaved-latency.js';
import type { PathResult } from './measure-path.js';
import { printTable } from './print-table.js';
import { type GatewayProfile, printGatewayProfile } from './profile-gateway.js';
import {
  CALLS_PER_SESSION,
  CONCURRENT_SESSIONS,
  log,
  quick,
  SEQUENTIAL,
  WARMUP,
  WARMUP_PER_SESSION,
  WORKER_CALLS_PER_SESSION,
  WORKER_SESSIONS,
  WORKER_WARMUP_PER_SESSION,
} from './run-context.js';
import { printSessions, type SessionsFigures, sessionsResults } from './sessions-step.js';
import { round } from './stats.js';
import { checkTargets, printTargets } from './targets.js';
import { type measureWorkers, printWorkers, threeOverOne } from './workers-report.js';

/** Every path of a full run, named; its entries in the order they were measured. */
export interface MeasuredPaths {
  floor: PathResult;
  hop: PathResult;
  baseline: PathResult;
  frontFloor: PathResult;
  gatewayInProcess: PathResult;
  direct: PathResult;
  viaGateway: PathResult;
  viaJsonGateway: PathResult;
  directSns: PathResult;
  viaSnsGateway: PathResult;
  directWebhook: PathResult;
  viaWebhookGateway: PathResult;
}

/** What a full run measured, beside its paths. */
export interface RunFigures {
  measured: MeasuredPaths;
  /** direct-sqs, gateway-sqs and http-floor timed in turn, in blocks of calls. */
  inTurn: InterleavedLatency;
  /** The idle sessions: the gateway's heap before and after opening them, how long that took, its stats. */
  sessions: SessionsFigures;
  workerRows: Awaited<ReturnType<typeof measureWorkers>>;
  idle: ReturnType<typeof idleCost>;
  gatewayProfile: GatewayProfile | undefined;
  startedAt: number;
}

/** The figures and targets of a full run: printed, and written to results/latest.json and its chart. */
export async function reportRun(run: RunFigures): Promise<void> {
  const { floor, hop, direct, viaGateway, viaJsonGateway } = run.measured;
  const { directSns, viaSnsGateway, directWebhook, viaWebhookGateway } = run.measured;
  const sessions = sessionsResults(run.sessions);
  const { workerRows, idle, gatewayProfile, startedAt } = run;

  // In the order run.ts measured them, which is the order the table and the chart list them.
  const paths = Object.values(run.measured);
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
    // From the three timed in turn: measured path after path, the figure followed the machine's drift.
    gatewayAddedOverHttpFloorP50Ms: run.inTurn.gatewayAddedOverHttpFloorP50Ms,
    sqsCallsPerToolCall: {
      concurrent: viaGateway.apiCallsPerCall?.concurrent ?? Number.NaN,
      sequential: viaGateway.apiCallsPerCall?.sequential ?? Number.NaN,
      concurrentByProcess: viaGateway.apiCallsPerCall?.concurrentByProcess ?? {},
    },
    // Judged at the sessions that opened: a run whose sessions were refused part way is not at 100,000.
    sessions100k: {
      sessions: sessions.opened,
      heapBytesPerSession: sessions.heapBytesPerSession,
      openedPerSecond: sessions.openedPerSecond,
    },
    gatewayOverDirectThroughput: {
      sqs: round((viaGateway.throughput ?? 0) / (direct.throughput ?? 1)),
      snsSqs: round((viaSnsGateway.throughput ?? 0) / (directSns.throughput ?? 1)),
      webhook: round((viaWebhookGateway.throughput ?? 0) / (directWebhook.throughput ?? 1)),
    },
    // What bounds the targets missed, from this run's own paths (bench/README.md, "What bounds the targets").
    bounds: boundsOf(run.measured, run.inTurn),
    // Reported figures, not targets.
    latencyInTurn: run.inTurn,
    // The same figure from the paths measured one after another, as it was computed before runs P–R.
    gatewayAddedOverHttpFloorP50MsByPath: round(
      viaGateway.latency.p50 - direct.latency.p50 - hop.latency.p50,
    ),
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
      ].reduce((total, row) => total + (row?.failedCalls ?? 0) + (row?.failedWarmupCalls ?? 0), 0),
      durationSeconds: workerRows.durationSeconds,
    },
    sessions,
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
  const inTurn = run.inTurn.latency;
  console.log(
    `in turn, p50                  direct-sqs ${inTurn['direct-sqs'].p50} ms, gateway-sqs ${inTurn['gateway-sqs'].p50} ms, http-floor ${inTurn['http-floor'].p50} ms, gateway-sqs with a bare HTTP client ${inTurn['gateway-sqs-bare-client'].p50} ms (${run.inTurn.calls} calls each; gateway adds ${run.inTurn.gatewayAddedOverHttpFloorP50Ms} ms over the hop, ${results.gatewayAddedOverHttpFloorP50MsByPath} ms from the paths one after another)`,
  );
  console.log(`gateway calls per CPU-second  ${results.gatewayCallsPerCoreSecond}  (32 sessions)`);
  printSessions(sessions);
  console.log(
    `idle (${idle.windowSeconds} s)               ReceiveMessage per 20 s per queue: server ${idle.serverReceivesPer20s}, gateway ${idle.gatewayReceivesPer20s} (shortest gaps ${idle.serverShortestGapSeconds} s, ${idle.gatewayShortestGapSeconds} s)`,
  );

  console.log('');
  printWorkers(results.workers);
  console.log('');
  printTargets(targets);
  console.log('');
  printBounds(results.bounds);
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
