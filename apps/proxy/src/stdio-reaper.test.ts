import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cleanupsAfterEach } from '@asyncmcp-internal/test-support';
import { describe, expect, it } from 'vitest';
import { isRunning } from '../test/processes.js';

// A real parent process runs a stdio server through createStdioServerFactory and is SIGKILLed: no
// handler of its own runs, and only the reaper can end the child (which ignores the end of its stdin)
// and the grandchild (which ignores SIGTERM too).
const PARENT = fileURLToPath(new URL('../test/fixtures/upstream/reaped-parent.mjs', import.meta.url));
/** Every wait's bound: generous, as the parent fixture compiles TypeScript at start on a loaded machine. */
const BOUND_MS = 40_000;

/** Polls `done` until it holds, failing with `what` after BOUND_MS. */
async function waitFor(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${BOUND_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** pid → [parent pid, command line] of every process. */
function processes(): Map<number, [number, string]> {
  const listing = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' });
  const table = new Map<number, [number, string]>();
  for (const line of listing.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (match) table.set(Number(match[1]), [Number(match[2]), match[3] ?? '']);
  }
  return table;
}

function reapersOf(parent: number): number[] {
  return [...processes()]
    .filter(([, [ppid, args]]) => ppid === parent && args.includes('stdio-reaper.cjs'))
    .map(([pid]) => pid);
}

describe('stdio reaper', () => {
  const cleanups = cleanupsAfterEach();

  function killLater(pid: number | undefined): void {
    cleanups.push(async () => {
      if (pid !== undefined && isRunning(pid)) process.kill(pid, 'SIGKILL');
    });
  }

  function spawnKept(args: string[]): ChildProcess {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    killLater(child.pid);
    return child;
  }

  /** The parent fixture, once its child and grandchild run. */
  async function startParent(args: string[] = []) {
    const parent = spawnKept([PARENT, ...args]);
    const exited = once(parent, 'exit');
    const lines = createInterface({ input: parent.stdout! });
    const line = once(lines, 'line').then(([text]) => String(text));
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the parent printed no pids')), BOUND_MS).unref(),
    );
    const early = exited.then(([code, signal]) => {
      throw new Error(`the parent exited (${code ?? signal}) before printing its pids`);
    });
    const pids = JSON.parse(await Promise.race([line, timeout, early])) as {
      child: number;
      grandchild: number;
    };
    killLater(pids.child);
    killLater(pids.grandchild);
    return { parent, exited, pids };
  }

  it(
    'ends the children and their descendants when the parent is SIGKILLed, and nothing else',
    { timeout: 120_000 },
    async () => {
      const unrelated = spawnKept(['-e', 'setInterval(() => {}, 1000)']);
      const { parent, exited, pids } = await startParent();
      const reapers = reapersOf(parent.pid!);
      expect(reapers).toHaveLength(1);
      killLater(reapers[0]);
      expect([pids.child, pids.grandchild, reapers[0]!].every(isRunning)).toBe(true);

      parent.kill('SIGKILL');
      await exited;
      await waitFor(() => !isRunning(pids.child), 'the child ending');
      await waitFor(() => !isRunning(pids.grandchild), 'the grandchild ending');
      // Its work done, the reaper is gone too.
      await waitFor(() => !isRunning(reapers[0]!), 'the reaper exiting');
      expect(isRunning(unrelated.pid!)).toBe(true);
    },
  );

  it(
    'with reapOnExit: false, starts no reaper, and the children outlive a SIGKILLed parent',
    { timeout: 120_000 },
    async () => {
      const { parent, exited, pids } = await startParent(['--no-reap']);
      expect(reapersOf(parent.pid!)).toEqual([]);

      parent.kill('SIGKILL');
      await exited;
      // Re-parented: their parent is gone for good, and they run on.
      await waitFor(() => processes().get(pids.child)?.[0] !== parent.pid, 'the child being re-parented');
      expect(isRunning(pids.child)).toBe(true);
      expect(isRunning(pids.grandchild)).toBe(true);
    },
  );
});
