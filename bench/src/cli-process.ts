import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The gateway CLI as users run it: the build of apps/proxy (`asyncmcp-proxy`). */
export const CLI_PATH = fileURLToPath(new URL('../../apps/proxy/dist/cli.js', import.meta.url));

/**
 * Builds the CLI if its sources changed since its last build (turbo: nothing to do when they did not), so
 * the figures are those of the code in the tree: `pnpm bench` builds only what the bench imports.
 */
export function buildCli(log: (line: string) => void): void {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const turbo = `${root}node_modules/.bin/turbo`;
  if (existsSync(turbo)) {
    log('• building the gateway CLI (asyncmcp-proxy) if it changed');
    const { status } = spawnSync(
      turbo,
      ['run', 'build', '--filter=asyncmcp-proxy', '--output-logs=errors-only'],
      {
        cwd: root,
        stdio: ['ignore', 2, 2],
      },
    );
    if (status !== 0) log(`  turbo exited with ${status}: measuring the CLI as last built`);
  }
  if (!existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: build the gateway CLI first (pnpm build)`);
  }
}

/** A wait on a CLI process is bounded by this, so a hang fails the run with the output seen so far. */
const WAIT_MS = 30_000;

/**
 * The environment a CLI process runs with: this one without the gateway's own settings (so what a
 * developer has exported cannot change a figure), with credentials the emulator accepts and no
 * ~/.aws files.
 */
function cliEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(ASYNCMCP_|AWS_)/.test(name) || name === 'PORT') continue;
    env[name] = value;
  }
  return {
    ...env,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_CONFIG_FILE: '/nonexistent/asyncmcp-bench-aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/asyncmcp-bench-aws-credentials',
    NODE_NO_WARNINGS: '1',
  };
}

/** A running `node apps/proxy/dist/cli.js …`: its JSON log lines kept for waits and counts, its last 200 lines of output for errors. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly logs: Array<Record<string, unknown>> = [];
  readonly #output: string[] = [];
  #waiters: Array<(log: Record<string, unknown>) => void> = [];
  readonly #exited: Promise<void>;

  constructor(
    readonly name: string,
    args: readonly string[],
  ) {
    if (!existsSync(CLI_PATH)) {
      throw new Error(`${CLI_PATH} is missing: build the gateway CLI first (pnpm build)`);
    }
    // BENCH_CPU_PROF=<dir> profiles these too, as it does the bench's own children.
    const profile = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
      : [];
    this.child = spawn(process.execPath, [...profile, CLI_PATH, ...args], { env: cliEnv(), stdio: 'pipe' });
    this.#exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    for (const stream of [this.child.stdout, this.child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => this.#line(line));
    }
  }

  #line(line: string): void {
    this.#output.push(line);
    if (this.#output.length > 200) this.#output.shift();
    let log: Record<string, unknown>;
    try {
      log = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    this.logs.push(log);
    for (const waiter of this.#waiters) waiter(log);
  }

  /** How many of its log lines so far have `msg` equal to `message`. */
  count(message: string): number {
    return this.logs.filter((log) => log.msg === message).length;
  }

  /** The first log line (seen already or to come) whose `msg` is `message`. */
  waitForLog(message: string): Promise<Record<string, unknown>> {
    const seen = this.logs.find((log) => log.msg === message);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((other) => other !== waiter);
        reject(new Error(`${this.name}: ${why} before its "${message}" log\n${this.#output.join('\n')}`));
      };
      const timer = setTimeout(() => fail(`${WAIT_MS} ms passed`), WAIT_MS);
      const waiter = (log: Record<string, unknown>) => {
        if (log.msg !== message) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((other) => other !== waiter);
        resolve(log);
      };
      this.#waiters.push(waiter);
      void this.#exited.then(() => {
        if (this.#waiters.includes(waiter)) fail(`exited (${this.child.exitCode ?? this.child.signalCode})`);
      });
    });
  }

  /** SIGTERM, as a user stops it (it ends its sessions and their servers); SIGKILL if it has not exited in 20 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => {
      process.stderr.write(`${this.name} did not stop within 20 s of SIGTERM: killing it\n`);
      this.child.kill('SIGKILL');
    }, 20_000);
    this.child.kill('SIGTERM');
    await this.#exited;
    clearTimeout(timer);
  }
}
