// `pnpm test`: runs `turbo run test` (with any arguments given) so that nothing it starts outlives it.
//
// - Every Node.js process below gets internal/test-support/die-with-parent.cjs preloaded (NODE_OPTIONS):
//   one whose parent dies without cleaning up (turbo stopping a task, a worker SIGKILLed) kills itself,
//   and its children follow.
// - The run is a process group of its own: SIGINT, SIGTERM or SIGHUP sent to this script reaches every
//   process in it, and what has not exited 10 s later is killed. Likewise if this script's own parent
//   dies. (A SIGKILL of this script itself cannot be forwarded: the run then ends on its own.)
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dieWithParent = fileURLToPath(new URL('../internal/test-support/die-with-parent.cjs', import.meta.url));
const turbo = createRequire(import.meta.url).resolve('turbo/bin/turbo');
const GRACE_MS = 10_000;

const preload = `--require "${dieWithParent}"`;
const nodeOptions = process.env.NODE_OPTIONS ?? '';
const env = {
  ...process.env,
  NODE_OPTIONS: nodeOptions.includes(dieWithParent) ? nodeOptions : `${nodeOptions} ${preload}`.trim(),
};

const run = spawn(process.execPath, [turbo, 'run', 'test', ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: 'inherit',
  detached: true,
});

let stopping = false;
function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  signalGroup(signal);
  // Not unref'd: this script stays until the group has ended, or has been killed.
  setTimeout(() => {
    signalGroup('SIGKILL');
    process.exit();
  }, GRACE_MS);
}

function signalGroup(signal) {
  try {
    process.kill(-run.pid, signal);
  } catch {
    // the group is gone already
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stopAll(signal));

const parent = process.ppid;
const watch = setInterval(() => {
  if (process.ppid !== parent) stopAll('SIGTERM');
}, 200);
watch.unref();

run.once('exit', (code, signal) => {
  process.exitCode = code ?? (signal === 'SIGINT' ? 130 : 143);
  if (!stopping) {
    // Whatever is still in the group (a process that ignored the end of its parent) goes with the run.
    signalGroup('SIGKILL');
    return;
  }
  // Stopped by a signal: turbo's launcher exits at once, the rest of the group gets its grace period.
  const poll = setInterval(() => {
    if (groupAlive()) return;
    clearInterval(poll);
    process.exit();
  }, 100);
});

function groupAlive() {
  try {
    process.kill(-run.pid, 0);
    return true;
  } catch {
    return false;
  }
}
