import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Child<I> {
  readonly info: I;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts one of the bench's child scripts (each part of a path runs in its own process, as it would in
 * production) and waits for the JSON line it prints when ready.
 */
export async function startChild<I>(
  script: string,
  env: Record<string, string> = {},
  nodeArgs: readonly string[] = [],
  timeoutMs = 30_000,
): Promise<Child<I>> {
  const file = fileURLToPath(new URL(script, import.meta.url));
  // BENCH_CPU_PROF=<dir> profiles every child (`--cpu-prof`), for finding where the time goes.
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
    : [];
  const child = spawn(process.execPath, ['--expose-gc', ...profile, ...nodeArgs, '--import', 'tsx', file], {
    env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const info = await new Promise<I>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    lines.on('line', (line) => {
      if (!line.startsWith('{"ready"')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as I);
    });
  });
  return {
    info,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Prints the ready line a parent waits for. */
export function ready(info: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ready: true, ...info })}\n`);
}
