'use strict';
// The stdio reaper: one per process that runs stdio MCP servers as children (createStdioServerFactory,
// see stdio-reaper.ts). That process starts it detached, with a pipe as its stdin, and writes "+<pid>"
// for every child it starts and "-<pid>" for every child it sees exit. The kernel closes the pipe however
// the parent ends — an exit, a crash, even SIGKILL, which no handler in the parent can catch — so the end
// of stdin is the parent's death notice. Then every registered child still running, and every process
// below it, gets SIGTERM, and SIGKILL after a grace period if it is still there; then the reaper exits.
// Plain JavaScript run as it is: no dependencies, no native code, nothing Linux-only (prctl); the process
// tree comes from `ps`, which Linux and macOS both have, or from /proc where `ps` is missing (slim images).
const { execFile } = require('node:child_process');
const { readdirSync, readFileSync } = require('node:fs');

const GRACE_MS = 2000;
const POLL_MS = 100;

// Only pids the parent registered, and processes below them, are ever signalled. A child the parent
// reports gone is forgotten, so its pid, if reused by an unrelated process, is left alone.
const children = new Set();

let partial = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (partial + chunk).split('\n');
  partial = lines.pop();
  for (const line of lines) {
    const pid = Number(line.slice(1));
    if (!Number.isInteger(pid) || pid <= 1) continue;
    if (line[0] === '+') children.add(pid);
    else if (line[0] === '-') children.delete(pid);
  }
});
// 'end' when the pipe closes; 'error' if it breaks some other way: either way the parent is gone.
process.stdin.once('end', reap);
process.stdin.once('error', reap);

let reaping = false;
async function reap() {
  if (reaping) return;
  reaping = true;
  if (children.size > 0) {
    // Found now, not when registered: a child's descendants are whatever it has started by this time.
    let targets = family([...children], await processTable());
    signal(targets, 'SIGTERM');
    const deadline = Date.now() + GRACE_MS;
    while (targets.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const table = await processTable();
      targets = targets.filter((pid) => isRunning(pid, table));
    }
    // Survivors, with whatever they started meanwhile.
    if (targets.length > 0) signal(family(targets, await processTable()), 'SIGKILL');
  }
  process.exit(0);
}

/** `roots` that are running, and every process below them in `table` (parent links), without this one. */
function family(roots, table) {
  const found = new Set(roots.filter((pid) => isRunning(pid, table)));
  if (table === undefined) return [...found];
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, entry] of table) {
      if (found.has(pid) || !found.has(entry.parent) || entry.zombie) continue;
      found.add(pid);
      grew = true;
    }
  }
  found.delete(process.pid);
  return [...found];
}

/** A zombie has exited already (only its parent's wait is missing): it counts as gone. */
function isRunning(pid, table) {
  if (table !== undefined) return table.has(pid) && !table.get(pid).zombie;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pids, name) {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // exited meanwhile
    }
  }
}

/** pid → { parent, zombie } for every process, or undefined if neither `ps` nor /proc can tell. */
function processTable() {
  return new Promise((resolve) => {
    execFile('ps', ['-A', '-o', 'pid=,ppid=,stat='], (error, stdout) => {
      if (error) return resolve(procTable());
      const table = new Map();
      for (const line of stdout.split('\n')) {
        const [pid, parent, stat = ''] = line.trim().split(/\s+/);
        if (pid) table.set(Number(pid), { parent: Number(parent), zombie: stat.startsWith('Z') });
      }
      resolve(table);
    });
  });
}

function procTable() {
  try {
    const table = new Map();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // "pid (comm) state ppid …"; comm may hold spaces and parentheses, so read after the last ")".
        const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        table.set(Number(entry), { parent: Number(parent), zombie: state === 'Z' || state === 'X' });
      } catch {
        // exited meanwhile
      }
    }
    return table;
  } catch {
    return undefined;
  }
}
