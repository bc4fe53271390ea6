import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Child } from './child-process.js';
import {
  type CpuProfile,
  type ProfileSummary,
  type SelfTime,
  summarizeProfile,
} from './cpu-profile-summary.js';
import { getJson } from './get-json.js';
import { callConcurrently } from './mcp-calls.js';

/**
 * `--profile`: a gateway of its own, run under `node --cpu-prof`, given the concurrent load of the
 * gateway-sqs path, and a summary of where its self time went while that load ran (warm-up and start-up
 * left out). Its own gateway, so the profiler's overhead stays out of the figures measured beside it.
 */

export interface GatewayProfileOptions {
  /** Starts the gateway child with these extra Node flags. */
  startGateway: (nodeArgs: string[]) => Promise<Child<{ url: string; control: string }>>;
  /** Opens one session through the gateway at `url`. */
  open: (url: string) => Promise<Client>;
  sessions: number;
  warmupCallsPerSession: number;
  callsPerSession: number;
  /** Where the `.cpuprofile` goes. */
  directory: string;
  log: (line: string) => void;
}

export interface GatewayProfile {
  file: string;
  calls: number;
  summary: ProfileSummary;
}

const monotonicUs = async (control: string) =>
  (await getJson<{ monotonicUs: number }>(`${control}/stats`)).monotonicUs;

export async function profileGateway(options: GatewayProfileOptions): Promise<GatewayProfile> {
  const { directory, log } = options;
  log(`• gateway-sqs under node --cpu-prof: ${options.sessions} sessions calling at once`);
  await mkdir(directory, { recursive: true });
  // Every thread writes a profile (the module loader's too, with tsx), so each goes under its default
  // name, which holds the process id and thread id, into a folder of this run's own.
  const scratch = await mkdtemp(join(directory, 'run-'));
  const gateway = await options.startGateway(['--cpu-prof', '--cpu-prof-dir', scratch]);
  const clients = await Promise.all(
    Array.from({ length: options.sessions }, () => options.open(gateway.info.url)),
  );
  await callConcurrently(clients, options.warmupCallsPerSession);
  const fromUs = await monotonicUs(gateway.info.control);
  await callConcurrently(clients, options.callsPerSession);
  const toUs = await monotonicUs(gateway.info.control);
  await Promise.all(clients.map((client) => client.close()));
  // The profile is written as the process exits.
  await gateway.stop();
  const written = await readdir(scratch);
  const mainThread = written.find((name) => name.includes(`.${gateway.process.pid}.0.`));
  if (!mainThread) throw new Error(`no profile of the gateway's main thread among ${written.join(', ')}`);
  const file = join(directory, 'gateway-sqs.cpuprofile');
  await rename(join(scratch, mainThread), file);
  await rm(scratch, { recursive: true });
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  return {
    file,
    calls: options.sessions * options.callsPerSession,
    summary: summarizeProfile(profile, { fromUs, toUs }),
  };
}

function printSelfTimes(title: string, times: SelfTime[], count: number): void {
  console.log(title);
  for (const { name, ms, percent } of times.slice(0, count)) {
    console.log(`  ${String(percent).padStart(5)} %  ${String(ms).padStart(8)} ms  ${name}`);
  }
}

export function printGatewayProfile({ file, calls, summary }: GatewayProfile): void {
  console.log(
    `gateway CPU profile (${file}): ${summary.busyMs} ms busy over ${summary.windowMs} ms of ${calls} calls, ${Math.round((summary.busyMs / calls) * 1000) / 1000} ms per call`,
  );
  printSelfTimes('self time by package (share of busy time):', summary.byPackage, 10);
  printSelfTimes('top functions by self time:', summary.topFunctions, 15);
}
