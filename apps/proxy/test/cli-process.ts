import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type SqsEmulator, WAIT_MS, within } from '@asyncmcp-internal/test-support';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

/** The built CLI: these tests run what users run. `pnpm test` builds it first (see turbo.json). */
export const CLI_PATH = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

// Every wait in these tests is bounded (by WAIT_MS unless one says otherwise), so a hang fails with the
// output seen so far; `within` bounds any other promise the same way.
export { WAIT_MS, within };

export function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: build the app first (pnpm --filter asyncmcp-proxy build)`);
  }
}

/**
 * An environment free of the gateway's own settings, so what the developer has exported cannot change
 * a test; AWS credentials are dummies the emulator accepts.
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    // The run's marker stays, so a process left behind is found (scripts/leftover-processes.mjs).
    if (name === 'ASYNCMCP_TEST_RUN_ID') {
      env[name] = value;
      continue;
    }
    if (/^(ASYNCMCP_|AWS_)/.test(name) || ['PORT', 'AUTH_TOKEN', 'BACKEND_TRANSPORT'].includes(name))
      continue;
    env[name] = value;
  }
  return {
    ...env,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    // Keep a developer's ~/.aws files out of the picture.
    AWS_CONFIG_FILE: '/nonexistent/asyncmcp-test-aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/asyncmcp-test-aws-credentials',
    ...extra,
  };
}

type Stream = 'stdout' | 'stderr';

interface Waiter {
  stream: Stream;
  match: (line: string) => boolean;
  resolve: (line: string) => void;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<CliProcess>();

/** A running `node dist/cli.js …`, with its output as lines and bounded waits on them. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: Record<Stream, string[]> = { stdout: [], stderr: [] };
  readonly exited: Promise<Exit>;
  /** Resolves once both output streams have ended and every line has been read. */
  readonly drained: Promise<void>;
  #waiters: Waiter[] = [];

  constructor(args: readonly string[], env: Record<string, string>) {
    assertBuilt();
    this.child = spawn(process.execPath, [CLI_PATH, ...args], { env, stdio: 'pipe' });
    running.add(this);
    const closed = (['stdout', 'stderr'] as const).map((stream) => {
      const lines = createInterface({ input: this.child[stream] });
      lines.on('line', (line) => this.#line(stream, line));
      return new Promise<void>((resolve) => lines.once('close', resolve));
    });
    this.drained = Promise.all(closed).then(() => undefined);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        running.delete(this);
        resolve({ code, signal });
      });
    });
  }

  #line(stream: Stream, line: string): void {
    this.lines[stream].push(line);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (waiter.stream !== stream || !waiter.match(line)) return true;
      waiter.resolve(line);
      return false;
    });
  }

  /** The first line (seen already or to come) on `stream` that `match` accepts. */
  waitForLine(stream: Stream, match: (line: string) => boolean, what: string): Promise<string> {
    const seen = this.lines[stream].find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        stream,
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((other) => other !== waiter);
        reject(new Error(`no ${what} within ${WAIT_MS} ms\n${this.describeOutput()}`));
      }, WAIT_MS);
      this.#waiters.push(waiter);
      void this.exited.then(({ code, signal }) => {
        if (!this.#waiters.includes(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`exited (${code ?? signal}) before ${what}\n${this.describeOutput()}`));
      });
    });
  }

  /** The first JSON log line on `stream` whose `msg` is `message`. */
  async waitForLog(message: string, stream: Stream = 'stdout'): Promise<Record<string, unknown>> {
    const line = await this.waitForLine(
      stream,
      (candidate) => parseLog(candidate)?.msg === message,
      `"${message}" log`,
    );
    return parseLog(line)!;
  }

  /** The gateway's URL, from its `gateway listening` log line. */
  async url(): Promise<string> {
    const log = await this.waitForLog('gateway listening');
    return String(log.url);
  }

  waitForExit(): Promise<Exit> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`did not exit within ${WAIT_MS} ms\n${this.describeOutput()}`)),
        WAIT_MS,
      );
      void this.exited.then((exit) => {
        clearTimeout(timer);
        resolve(exit);
      });
    });
  }

  describeOutput(): string {
    return `stdout:\n${this.lines.stdout.join('\n')}\nstderr:\n${this.lines.stderr.join('\n')}`;
  }
}

/** Runs the CLI to completion (bounded) and returns its exit and output. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string> = cleanEnv(),
): Promise<Exit & { stdout: string[]; stderr: string[] }> {
  const cli = new CliProcess(args, env);
  const exit = await cli.waitForExit();
  // 'exit' can come before the last output lines are read.
  await within(cli.drained, 'the end of the output');
  return { ...exit, stdout: cli.lines.stdout, stderr: cli.lines.stderr };
}

/** Kills whatever a test left running. */
export async function killAll(): Promise<void> {
  const left = [...running];
  for (const cli of left) cli.child.kill('SIGKILL');
  await within(Promise.all(left.map((cli) => cli.exited)), 'killed processes exiting');
}

/** Closes the SDK clients a test connected, then kills the CLI processes it left running. */
export async function closeClientsAndKillAll(clients: Client[]): Promise<void> {
  await Promise.allSettled(clients.splice(0).map((client) => client.close()));
  await killAll();
}

/** The flags that point the CLI at a backend on the emulator: where requests go, its endpoint and region. */
export function emulatorBackendFlags(
  emulator: SqsEmulator,
  backend: 'sqs' | 'sns-sqs',
  requests: GatewayRequests,
): string[] {
  return ['--backend', backend, ...requests, '--endpoint-url', emulator.endpoint, '--region', 'us-east-1'];
}

/** Stops a test file's emulator and releases its clients (the shared helper's `stop()` keeps them for a restart). */
export async function stopEmulator(emulator: SqsEmulator | undefined): Promise<void> {
  if (emulator === undefined) return;
  emulator.sqsClient.destroy();
  emulator.snsClient.destroy();
  await emulator.stop();
}

export function parseLog(line: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the progress values seen are some of `expected`, in its order. */
export function isOrderedSubset(
  progress: readonly { progress: number }[],
  expected: readonly number[],
): boolean {
  let next = 0;
  for (const { progress: value } of progress) {
    const at = expected.indexOf(value, next);
    if (at === -1) return false;
    next = at + 1;
  }
  return true;
}

/** `asyncmcp-proxy serve` of a stdio command on a queue of the emulator, once it says it is serving. */
export async function startServeCli(
  emulator: SqsEmulator,
  options: {
    requestQueueUrl: string;
    command: readonly string[];
    backend?: 'sqs' | 'sns-sqs';
    flags?: readonly string[];
  },
): Promise<{ cli: CliProcess; serving: Record<string, unknown> }> {
  const cli = new CliProcess(
    [
      'serve',
      ...emulatorBackendFlags(emulator, options.backend ?? 'sqs', [
        '--request-queue-url',
        options.requestQueueUrl,
      ]),
      ...(options.flags ?? []),
      '--',
      ...options.command,
    ],
    cleanEnv(),
  );
  return { cli, serving: await cli.waitForLog('serving') };
}

/** `count` serve workers side by side on one request queue, once each says it is serving. */
export async function startServeWorkers(
  emulator: SqsEmulator,
  count: number,
  options: Parameters<typeof startServeCli>[1],
): Promise<{ workers: CliProcess[]; serving: Record<string, unknown>[] }> {
  const started = await Promise.all(Array.from({ length: count }, () => startServeCli(emulator, options)));
  return { workers: started.map(({ cli }) => cli), serving: started.map(({ serving }) => serving) };
}

/** Where a gateway sends requests: a queue (`--backend sqs`) or a topic (`--backend sns-sqs`). */
export type GatewayRequests = ['--request-queue-url' | '--request-topic-arn', string];

/** The gateway CLI on a port of its own in front of the emulator, just spawned (`url()` waits for it). */
export function spawnGatewayCli(
  emulator: SqsEmulator,
  requests: GatewayRequests,
  flags: readonly string[] = [],
  env: Record<string, string> = cleanEnv(),
): CliProcess {
  const backend = requests[0] === '--request-topic-arn' ? 'sns-sqs' : 'sqs';
  return new CliProcess([...emulatorBackendFlags(emulator, backend, requests), '--port', '0', ...flags], env);
}

/** The gateway CLI on a port of its own in front of the emulator; resolves with its MCP URL. */
export async function startGatewayCli(
  emulator: SqsEmulator,
  requests: GatewayRequests,
  flags: readonly string[] = [],
): Promise<string> {
  return spawnGatewayCli(emulator, requests, flags).url();
}

/** Writes `lines` as a config file named `name` in a new temporary directory; returns its path. */
export function writeConfigFile(name: string, lines: readonly string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'asyncmcp-e2e-')), name);
  writeFileSync(path, lines.join('\n'));
  return path;
}

/** `asyncmcp-proxy demo` on a port of its own, once its banner is out; its MCP URL is the one the banner prints. */
export async function startDemoCli(args: readonly string[] = []): Promise<{ cli: CliProcess; url: string }> {
  const cli = new CliProcess(['demo', '--port', '0', ...args], cleanEnv());
  const line = await cli.waitForLine('stdout', (candidate) => candidate.includes('MCP endpoint:'), 'the URL');
  const url = /MCP endpoint:\s+(\S+)/.exec(line)?.[1];
  if (!url) throw new Error(`no URL in "${line}"`);
  await cli.waitForLine('stdout', (candidate) => candidate.includes('Ctrl-C'), 'the end of the banner');
  return { cli, url };
}
