import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type Child, startChild } from './child-process.js';
import type { PathSettings } from './measure-path.js';

// What one `pnpm bench` run is given on its command line, the sizes that follow from it, and the
// child processes it started (stopped by run.ts when the run ends, however it ends).
export const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sessions: { type: 'string' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});
export const quick = values.quick ?? false;
if (values.only !== undefined && !['workers', 'profile', 'sessions'].includes(values.only)) {
  throw new Error(
    `--only takes "workers" (the workers rows alone), "profile" (the gateway's CPU profile alone) or "sessions" (the idle sessions alone), not "${values.only}"`,
  );
}
export const SEQUENTIAL = quick ? 200 : 500;
export const WARMUP = quick ? 100 : 300;
// Calls from each of the 32 sessions at once before a path is measured: about 4,000, where a gateway's CPU per
// call stops falling as V8 optimises it (bench/README.md, "Warm-up"); with 320 it was measured twice too high.
export const WARMUP_PER_SESSION = quick ? 20 : 125;
export const CONCURRENT_SESSIONS = 32;
export const CALLS_PER_SESSION = quick ? 15 : 60;
export const IDLE_SESSIONS = Number(values.sessions ?? (quick ? 200 : 1000));
export const IDLE_WINDOW_MS = quick ? 41_000 : 60_000;
// Workers: serve × 1 and × 3 on one request queue (--quick: over SQS only, fewer sessions and calls).
export const WORKER_SESSIONS = quick ? 6 : 12;
export const WORKER_CALLS_PER_SESSION = quick ? 4 : 10;
export const WORKER_WARMUP_PER_SESSION = quick ? 5 : 40;
export const PROFILE_DIRECTORY = new URL('../results/profiles/', import.meta.url).pathname;

export type Json = Record<string, unknown>;
export const children: Array<Child<unknown>> = [];
export const log = (line: string) => process.stderr.write(`${line}\n`);
export const PATH_SETTINGS: PathSettings = {
  sequential: SEQUENTIAL,
  warmup: WARMUP,
  warmupPerSession: WARMUP_PER_SESSION,
  concurrentSessions: CONCURRENT_SESSIONS,
  callsPerSession: CALLS_PER_SESSION,
  settleMs: 300,
  log,
};

export async function child<I>(
  script: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<Child<I>> {
  const started = await startChild<I>(script, env, nodeArgs);
  children.push(started as Child<unknown>);
  return started;
}

export async function queue(sqs: SQSClient, name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${randomUUID()}` }));
  return QueueUrl as string;
}
