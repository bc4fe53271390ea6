import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of processes this bench did not write (the gateway CLI, serve workers, the stdio servers they
 * run), read from Linux's /proc: the nanoseconds each thread has run (`schedstat`), summed. Undefined
 * where there is no /proc with them (other systems), so the figures that need it are left out.
 */
export function cpuMsOf(pid: number): number | undefined {
  try {
    let nanoseconds = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        nanoseconds += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // A thread that ended between the listing and the read.
      }
    }
    return nanoseconds / 1e6;
  } catch {
    return undefined;
  }
}

/** Every process descended from `pids` (children, their children, …), from each process's parent in /proc. */
export function descendantsOf(pids: readonly number[]): number[] {
  const parents = new Map<number, number>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        parents.set(Number(entry), ppid);
      } catch {
        // Gone already.
      }
    }
  } catch {
    return [];
  }
  const found = new Set<number>();
  let frontier = new Set(pids);
  while (frontier.size > 0) {
    const next = new Set<number>();
    for (const [pid, ppid] of parents) {
      if (frontier.has(ppid) && !found.has(pid)) {
        found.add(pid);
        next.add(pid);
      }
    }
    frontier = next;
  }
  return [...found];
}

/** The summed CPU milliseconds of `pids`; undefined if any cannot be read. */
export function totalCpuMs(pids: readonly number[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const ms = cpuMsOf(pid);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return total;
}
