import { mkdir, writeFile } from 'node:fs/promises';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { awsClients } from './aws-clients.js';
import type { Child } from './child-process.js';
import { printTable } from './print-table.js';
import {
  child,
  log,
  quick,
  WORKER_CALLS_PER_SESSION,
  WORKER_SESSIONS,
  WORKER_WARMUP_PER_SESSION,
} from './run-context.js';
import { round } from './stats.js';
import { measureWorkersRow, type WorkersRow, type WorkersRowSpec } from './workers.js';

export interface WorkersFigures {
  sqs: { one: WorkersRow; three: WorkersRow; threeWithoutInbox: WorkersRow | null };
  /** null with --quick. */
  snsSqs: { one: WorkersRow | null; three: WorkersRow | null };
}

/** The workers rows: 1 and 3 serve workers on one queue, and 3 without inboxes (the design before). */
export async function measureWorkers(
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
export function threeOverOne(one: WorkersRow | null, three: WorkersRow | null) {
  if (!one || !three) return { threeOverOneCallsPerCall: null, threeOverOneP50: null };
  return {
    threeOverOneCallsPerCall: round(three.apiCallsPerCall / one.apiCallsPerCall),
    threeOverOneP50: round(three.latency.p50 / one.latency.p50),
  };
}

export type WorkersResults = WorkersFigures & {
  sessions: number;
  callsPerSession: number;
  sqs: ReturnType<typeof threeOverOne>;
  snsSqs: ReturnType<typeof threeOverOne>;
};

export function printWorkers(workers: WorkersResults): void {
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
        row.failedWarmupCalls > 0
          ? `${row.failedCalls} (warm-up ${row.failedWarmupCalls})`
          : String(row.failedCalls),
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
export async function workersOnly(
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
