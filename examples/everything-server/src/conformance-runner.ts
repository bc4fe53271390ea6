import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
/** Inside node_modules, so it is git-ignored and goes away with a clean install. */
const NODE22_DIR = join(PACKAGE_DIR, 'node_modules', '.cache', 'node22');
const NODE22_BIN = join(NODE22_DIR, 'node_modules', 'node', 'bin', 'node');
const RUNNER = join(
  dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json')),
  'dist',
  'index.js',
);

export type ConformanceCheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';

export interface ConformanceCheck {
  /** The scenario that produced the check, e.g. `tools-call-simple-text`. */
  scenario: string;
  id: string;
  name: string;
  description: string;
  status: ConformanceCheckStatus;
  errorMessage?: string;
  details?: unknown;
}

export interface ServerConformanceOptions {
  /** The server's Streamable HTTP endpoint. */
  url: string;
  /** `active` runs every scenario but the pending ones. @default 'active' */
  suite?: 'active' | 'all' | 'pending';
  /** Runs this one scenario instead of a suite. */
  scenario?: string;
  /** The whole run, Node 22 install excluded. @default 170000 */
  timeoutMs?: number;
}

export interface ServerConformanceResult {
  passed: number;
  failed: number;
  warnings: number;
  /** Every check of every scenario, in the order the scenarios ran. */
  checks: ConformanceCheck[];
  exitCode: number;
  /** What the runner printed (stdout and stderr interleaved). */
  output: string;
  durationMs: number;
}

/**
 * Runs the official MCP conformance suite (`@modelcontextprotocol/conformance`) against a server and
 * returns its checks. A server check that fails is a result, not an error; this rejects only when the
 * runner itself does not finish (timeout, crash).
 */
export async function runServerConformance(
  options: ServerConformanceOptions,
): Promise<ServerConformanceResult> {
  const node = await ensureNode22();
  const outputDir = await mkdtemp(join(tmpdir(), 'mcp-conformance-'));
  try {
    const args = [RUNNER, 'server', '--url', options.url, '--output-dir', outputDir];
    args.push(
      ...(options.scenario ? ['--scenario', options.scenario] : ['--suite', options.suite ?? 'active']),
    );
    const started = Date.now();
    const { exitCode, output } = await runProcess(node, args, options.timeoutMs ?? 170_000);
    const durationMs = Date.now() - started;

    const checks = await readChecks(outputDir);
    const count = (status: ConformanceCheckStatus) =>
      checks.filter((check) => check.status === status).length;
    const failed = count('FAILURE');
    // The runner exits non-zero on failed checks, and also when a scenario crashed without saving any.
    if (checks.length === 0 || (exitCode !== 0 && failed === 0)) {
      throw new Error(
        `conformance runner exited with ${exitCode} without reporting failed checks:\n${output}`,
      );
    }
    return {
      passed: count('SUCCESS'),
      failed,
      warnings: count('WARNING'),
      checks,
      exitCode,
      output,
      durationMs,
    };
  } finally {
    await rm(outputDir, { recursive: true, force: true });
  }
}

/**
 * The runner needs Node 22 or newer. On an older Node this installs the `node@22` npm package (a
 * prebuilt binary) once into a cache in this package's node_modules and returns its path.
 */
export async function ensureNode22(): Promise<string> {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  if (await isNode22(NODE22_BIN)) return NODE22_BIN;
  // Installed beside the cache and renamed into place, so nobody ever runs a half-installed binary.
  const staging = `${NODE22_DIR}.${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    const npmArgs = ['install', '--prefix', staging, 'node@22', '--no-save', '--no-package-lock'];
    const install = await runProcess('npm', [...npmArgs, '--no-audit', '--no-fund'], 300_000);
    if (install.exitCode !== 0) throw new Error(`installing node@22 failed:\n${install.output}`);
    // A concurrent install may have finished first; its binary is as good as ours.
    if (!(await isNode22(NODE22_BIN))) {
      await rm(NODE22_DIR, { recursive: true, force: true });
      await rename(staging, NODE22_DIR).catch(() => undefined);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  if (!(await isNode22(NODE22_BIN))) throw new Error(`no Node 22 binary at ${NODE22_BIN} after installing`);
  return NODE22_BIN;
}

async function isNode22(binary: string): Promise<boolean> {
  try {
    const { stdout } = await promisify(execFile)(binary, ['--version'], { timeout: 10_000 });
    return stdout.startsWith('v22.');
  } catch {
    return false;
  }
}

function runProcess(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<{ exitCode: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not finish within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? (signal ? 128 : 1), output });
    });
  });
}

/** `--output-dir` gets one `server-<scenario>-<ISO timestamp>/checks.json` per scenario. */
async function readChecks(outputDir: string): Promise<ConformanceCheck[]> {
  const runs = (await readdir(outputDir))
    .map((entry) => ({ entry, match: /^server-(.+)-(\d{4}-\d{2}-\d{2}T[\d-]+Z)$/.exec(entry) }))
    .flatMap(({ entry, match }) => (match ? [{ entry, scenario: match[1]!, startedAt: match[2]! }] : []))
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const checks: ConformanceCheck[] = [];
  for (const run of runs) {
    const saved = JSON.parse(await readFile(join(outputDir, run.entry, 'checks.json'), 'utf8')) as Array<
      Omit<ConformanceCheck, 'scenario'>
    >;
    checks.push(
      ...saved.map(({ id, name, description, status, errorMessage, details }) => ({
        scenario: run.scenario,
        id,
        name,
        description,
        status,
        ...(errorMessage === undefined ? {} : { errorMessage }),
        ...(details === undefined ? {} : { details }),
      })),
    );
  }
  return checks;
}
