import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Child } from './child-process.js';
import { getJson } from './get-json.js';
import { openIdleSessions } from './idle-sessions.js';
import { child, IDLE_SESSIONS, type Json, log, queue } from './run-context.js';
import { round } from './stats.js';

/** What the sessions step measured: see bench/README.md, "What an idle session holds". */
export interface SessionsFigures {
  /** Sessions asked for (`--sessions`). */
  requested: number;
  /** Sessions whose `initialize` got a result and whose `notifications/initialized` was accepted. */
  opened: number;
  /** Why the first session that did not open failed (the step stopped there). */
  refused?: string;
  heapBefore: number;
  heapAfter: number;
  openMs: number;
  /** The gateway's stats once they were open. */
  stats: Json;
  /** CPU ms per opened session of each process while they opened (client: this process, opening them). */
  cpuMsPerOpen: { gateway: number; worker: number; emulator: number; client: number };
}

// Heap for 100,000 sessions in the worker (an MCP server each) and the gateway, beyond V8's default.
const BIG_HEAP = ['--max-old-space-size=16384'];

/**
 * `--sessions N` idle gateway sessions opened on one gateway instance (one response-queue poller) to a
 * worker with no session limit of its own below N: the gateway's heap after a full GC, before and
 * after, the time to open them and the CPU each process spent on it.
 */
export async function measureSessions(
  endpoint: string,
  admin: SQSClient,
  emulator: Child<{ control: string }>,
): Promise<SessionsFigures> {
  log(`• sessions: ${IDLE_SESSIONS} idle gateway sessions over one response queue`);
  const requestQueueUrl = await queue(admin, 'sessions-req');
  const maxSessions = String(Math.max(100_000, IDLE_SESSIONS + 1));
  const worker = await child<{ control: string }>(
    './child-sqs-server.ts',
    { BENCH_ENDPOINT: endpoint, BENCH_REQUEST_QUEUE_URL: requestQueueUrl, BENCH_MAX_SESSIONS: maxSessions },
    BIG_HEAP,
  );
  const gateway = await child<{ url: string; control: string }>(
    './child-gateway.ts',
    { BENCH_ENDPOINT: endpoint, BENCH_REQUEST_QUEUE_URL: requestQueueUrl, BENCH_MAX_SESSIONS: maxSessions },
    BIG_HEAP,
  );
  const first = await openIdleSessions(gateway.info.url, 1);
  if (first.refused !== undefined)
    throw new Error(`sessions: the first session did not open: ${first.refused}`);
  const heapBefore = Number((await getJson(`${gateway.info.control}/heap`)).heapUsed);
  const cpu = async () => {
    const { user, system } = process.cpuUsage();
    return {
      gateway: Number((await getJson(`${gateway.info.control}/stats`)).cpuMs),
      worker: Number((await getJson(`${worker.info.control}/stats`)).cpuMs),
      emulator: Number((await getJson(`${emulator.info.control}/stats`)).cpuMs),
      client: (user + system) / 1000,
    };
  };
  const cpuBefore = await cpu();
  const opening = await openIdleSessions(gateway.info.url, IDLE_SESSIONS);
  const cpuAfter = await cpu();
  if (opening.refused !== undefined) {
    log(`• sessions: stopped after ${opening.opened} of ${IDLE_SESSIONS}: ${opening.refused}`);
  }
  const heapAfter = Number((await getJson(`${gateway.info.control}/heap`)).heapUsed);
  const stats = await getJson(`${gateway.info.control}/stats`);
  await gateway.stop();
  await worker.stop();
  const perOpen = (role: keyof SessionsFigures['cpuMsPerOpen']) =>
    round((cpuAfter[role] - cpuBefore[role]) / Math.max(1, opening.opened), 3);
  return {
    requested: IDLE_SESSIONS,
    opened: opening.opened,
    ...(opening.refused === undefined ? {} : { refused: opening.refused }),
    heapBefore,
    heapAfter,
    openMs: opening.ms,
    stats,
    cpuMsPerOpen: {
      gateway: perOpen('gateway'),
      worker: perOpen('worker'),
      emulator: perOpen('emulator'),
      client: perOpen('client'),
    },
  };
}

/** The figures of the step, as `latest.json` and `sessions.json` hold them. */
export function sessionsResults(figures: SessionsFigures) {
  const opened = Math.max(1, figures.opened);
  const heapPerSession = (figures.heapAfter - figures.heapBefore) / opened;
  return {
    requested: figures.requested,
    opened: figures.opened,
    ...(figures.refused === undefined ? {} : { refused: figures.refused }),
    openSeconds: round(figures.openMs / 1000, 2),
    openedPerSecond: round(figures.opened / (figures.openMs / 1000), 1),
    heapBytesPerSession: Math.round(heapPerSession),
    heapPerSessionKiB: round(heapPerSession / 1024, 2),
    liveOnGateway: figures.stats.sessions,
    cpuMsPerOpen: figures.cpuMsPerOpen,
  };
}

/** One line for the step. */
export function printSessions(results: ReturnType<typeof sessionsResults>): void {
  const { cpuMsPerOpen: cpu } = results;
  const stopped = results.refused === undefined ? '' : ` (stopped: ${results.refused})`;
  console.log(
    `sessions                      ${results.opened} of ${results.requested} opened in ${results.openSeconds} s (${results.openedPerSecond}/s), ${results.heapPerSessionKiB} KiB heap each; CPU ms per open: gateway ${cpu.gateway}, worker ${cpu.worker}, emulator ${cpu.emulator}, client ${cpu.client}${stopped}`,
  );
}

/** `--only sessions`: the sessions step alone, to bench/results/sessions.json. */
export async function sessionsOnly(
  endpoint: string,
  admin: SQSClient,
  emulator: Child<{ control: string }>,
  startedAt: number,
): Promise<void> {
  const results = sessionsResults(await measureSessions(endpoint, admin, emulator));
  printSessions(results);
  const out = new URL('../results/', import.meta.url);
  await mkdir(out, { recursive: true });
  const durationSeconds = round((Date.now() - startedAt) / 1000, 1);
  const file = {
    date: new Date().toISOString(),
    node: process.version,
    machine: { cpus: cpus().length },
    sessions: results,
    durationSeconds,
  };
  await writeFile(new URL('sessions.json', out), `${JSON.stringify(file, null, 2)}\n`);
  log(`results written to bench/results/sessions.json (${durationSeconds} s)`);
}
