import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@asyncmcp/core';

/**
 * The parent's side of the stdio reaper (stdio-reaper.cjs): a sidecar that kills this process's stdio
 * children, and what they started, once this process is gone, even SIGKILLed. One per process, started
 * with the first child and shared by every factory that asks for it.
 */

// The script runs as it is, from src/ in the repository and in the published package alike (package.json
// `files` lists it); dist/ and src/ are siblings, so this one path finds it from the built code too.
const SCRIPT = fileURLToPath(new URL('../src/stdio-reaper.cjs', import.meta.url));

/** Children started and not yet seen to exit: a reaper started again after one died learns them all. */
const watched = new Set<number>();
let reaper: ChildProcess | undefined;

/** Has the reaper end `pid` (and its descendants) if this process ends while `pid` still runs. */
export function reapOnExit(pid: number, logger: Logger): void {
  watched.add(pid);
  if (reaper === undefined) startReaper(logger);
  else reaper.stdin?.write(`+${pid}\n`);
}

/** `pid` has exited: the reaper forgets it, so a process that reuses the pid later is left alone. */
export function forgetExited(pid: number): void {
  if (watched.delete(pid)) reaper?.stdin?.write(`-${pid}\n`);
}

function startReaper(logger: Logger): void {
  // Without NODE_OPTIONS: a preload meant for this process (an APM agent, a test harness that kills
  // orphans) has no business in the one process whose job is to outlive it.
  const { NODE_OPTIONS: _, ...env } = process.env;
  const child = spawn(process.execPath, [SCRIPT], {
    stdio: ['pipe', 'ignore', 'inherit'],
    // Not in this process's group: a signal to the group (Ctrl-C) must not take the reaper first.
    detached: true,
    env,
  });
  // Neither the reaper nor the pipe to it keeps this process alive.
  child.unref();
  (child.stdin as Socket).unref();
  // A reaper that died (killed by someone) breaks the pipe; the next child starts a new one.
  child.stdin?.on('error', () => undefined);
  const gone = (error?: Error) => {
    if (reaper !== child) return;
    reaper = undefined;
    logger.warn(
      { err: error?.message, exitCode: child.exitCode, signal: child.signalCode },
      'stdio reaper ended; the next child starts a new one',
    );
  };
  child.once('error', gone);
  child.once('exit', () => gone());
  reaper = child;
  child.stdin?.write([...watched].map((pid) => `+${pid}\n`).join(''));
}
