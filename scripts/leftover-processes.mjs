// Finds the processes a test run left behind: every process whose environment carries the run's marker
// (ASYNCMCP_TEST_RUN_ID=<id>, exported by whoever started the run and inherited by all it spawned),
// other than this script and its ancestors. Waits a bounded time for stragglers (a process whose parent
// died kills itself within a few hundred milliseconds), then reports, and kills, what is still there.
//
//   node scripts/leftover-processes.mjs --run-id <id> [--wait-ms 5000] [--kill]
//
// Exit code 0: nothing left; 1: processes were left (listed on stderr); 2: bad usage.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const RUN_ID_VARIABLE = 'ASYNCMCP_TEST_RUN_ID';

/** This process and the ones that started it: they carry the marker too, and are not leftovers. */
function ancestors() {
  const chain = new Set([process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !chain.has(pid)) {
    chain.add(pid);
    pid = parentOf(pid);
  }
  return chain;
}

function parentOf(pid) {
  try {
    if (process.platform === 'linux') {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    }
    return Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
  } catch {
    return 0;
  }
}

/** [pid, command line] of every live process whose environment has `marker`. */
function markedProcesses(marker) {
  if (process.platform === 'linux') {
    const found = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const environment = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
        if (!environment.includes(marker)) continue;
        const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
        found.push([Number(entry), command]);
      } catch {
        // gone meanwhile, or not ours to read
      }
    }
    return found;
  }
  // macOS and the BSDs print each process's environment after its command with -E.
  const listing = execFileSync('ps', ['-E', '-ww', '-ax', '-o', 'pid=,command='], { encoding: 'utf8' });
  return listing
    .split('\n')
    .filter((line) => line.includes(marker))
    .map((line) => {
      const [pid, ...command] = line.trim().split(/\s+/);
      return [Number(pid), command.join(' ').slice(0, 300)];
    });
}

/** The processes of run `runId` still alive after up to `waitMs`; killed first when `kill` is set. */
export async function leftoverProcesses({ runId, waitMs = 5_000, kill = false }) {
  const marker = `${RUN_ID_VARIABLE}=${runId}`;
  const mine = ancestors();
  const deadline = Date.now() + waitMs;
  let left;
  for (;;) {
    left = markedProcesses(marker).filter(([pid]) => !mine.has(pid));
    if (left.length === 0 || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (kill) {
    for (const [pid] of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  return left;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      'run-id': { type: 'string' },
      'wait-ms': { type: 'string', default: '5000' },
      kill: { type: 'boolean', default: false },
    },
  });
  const runId = values['run-id'] ?? process.env[RUN_ID_VARIABLE];
  if (!runId) {
    console.error(`usage: leftover-processes.mjs --run-id <id> (or ${RUN_ID_VARIABLE} set)`);
    process.exit(2);
  }
  const left = await leftoverProcesses({ runId, waitMs: Number(values['wait-ms']), kill: values.kill });
  if (left.length === 0) {
    console.log(`processes left by run ${runId}: none`);
  } else {
    console.error(`processes left by run ${runId}: ${left.length}${values.kill ? ' (killed)' : ''}`);
    for (const [pid, command] of left) console.error(`  ${pid} ${command}`);
    process.exitCode = 1;
  }
}
