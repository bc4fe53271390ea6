// Runs the whole suite several times while other processes keep every core busy, and reports flaky
// tests and processes the suite left behind. A test that passes only on an idle machine fails here.
//
//   pnpm test:stress [--runs 3] [--hogs <cores>] [--interrupt-after <seconds, default 60; 0: none>]
//
// After the runs, one more is sent SIGTERM --interrupt-after seconds in; nothing it started may remain. Logs go to <tmp>/asyncmcp-stress-<time>/. Exit code 0 only when every run passed
// and left nothing behind.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, stripVTControlCharacters } from 'node:util';
import { leftoverProcesses, RUN_ID_VARIABLE } from './leftover-processes.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const pnpm = join(root, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
const dieWithParent = join(root, 'internal', 'test-support', 'die-with-parent.cjs');

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    hogs: { type: 'string', default: String(availableParallelism()) },
    'interrupt-after': { type: 'string', default: '60' },
  },
});
const runs = Number(values.runs);
const hogCount = Number(values.hogs);
// 0 leaves the interrupted run out.
const interruptAfterS = Number(values['interrupt-after']) > 0 ? Number(values['interrupt-after']) : undefined;
const logDirectory = join(tmpdir(), `asyncmcp-stress-${Date.now()}`);
mkdirSync(logDirectory, { recursive: true });

// Spins in 50 ms slices, so that between them the preloaded parent watch can run: a hog dies with this
// script even when the script is killed outright.
const SPIN =
  'const spin = () => { const end = Date.now() + 50; while (Date.now() < end); setImmediate(spin); }; spin();';

/** Busy processes, one per core asked for. */
function startHogs() {
  return Array.from({ length: hogCount }, () =>
    spawn(process.execPath, ['--require', dieWithParent, '-e', SPIN], { stdio: 'ignore' }),
  );
}

/** One `pnpm test --continue --force` (every package runs even when one fails; nothing replayed from turbo's cache), its output to a log file. */
function runSuite(label, interruptAfter) {
  const runId = `stress-${process.pid}-${label}`;
  const logPath = join(logDirectory, `${label}.log`);
  const log = createWriteStream(logPath);
  const child = spawn(process.execPath, [pnpm, 'test', '--continue', '--force'], {
    cwd: root,
    env: { ...process.env, [RUN_ID_VARIABLE]: runId, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const started = Date.now();
  const timer =
    interruptAfter === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), interruptAfter * 1000);
  const streamsClosed = new Promise((resolve) => child.once('close', resolve));
  return new Promise((resolve) => {
    child.once('exit', async (code, signal) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      // A process left behind may hold the output pipes open: read what is there, but not forever.
      await Promise.race([streamsClosed, new Promise((done) => setTimeout(done, 2_000))]);
      child.stdout.destroy();
      child.stderr.destroy();
      log.end(() => resolve({ label, runId, logPath, code, signal, seconds }));
    });
  });
}

/** The failed tests a vitest log names, and its totals. */
function summarize(logPath) {
  const text = stripVTControlCharacters(readFileSync(logPath, 'utf8'));
  const failures = new Set();
  const totals = { passed: 0, failed: 0, skipped: 0 };
  for (const line of text.split('\n')) {
    const failed = /\bFAIL\s+(.+)$/.exec(line);
    if (failed) failures.add(failed[1].trim());
    const counts = /Tests\s+(.*)\(\d+\)\s*$/.exec(line);
    if (counts)
      for (const [, n, kind] of counts[1].matchAll(/(\d+) (passed|failed|skipped)/g))
        totals[kind] += Number(n);
  }
  return { failures: [...failures], totals };
}

const hogs = startHogs();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    for (const hog of hogs) hog.kill('SIGKILL');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}
let bad = false;
try {
  console.log(`stress: ${runs} run(s) with ${hogCount} busy process(es); logs in ${logDirectory}`);
  const plan = Array.from({ length: runs }, (_, index) => [`run-${index + 1}`, undefined]);
  if (interruptAfterS !== undefined) plan.push(['interrupted', interruptAfterS]);
  for (const [label, interruptAfter] of plan) {
    const result = await runSuite(label, interruptAfter);
    const { failures, totals } = summarize(result.logPath);
    const left = await leftoverProcesses({ runId: result.runId, kill: true });
    const interrupted = interruptAfter !== undefined;
    const passed = interrupted || (result.code === 0 && failures.length === 0);
    if (!passed || left.length > 0) bad = true;
    const outcome = interrupted
      ? `SIGTERM after ${interruptAfter} s, exit ${result.code ?? result.signal}`
      : passed
        ? 'passed'
        : `FAILED (exit ${result.code ?? result.signal})`;
    console.log(
      `${label}: ${outcome} in ${result.seconds.toFixed(0)} s; tests ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped; processes left: ${left.length}`,
    );
    if (!interrupted) for (const failure of failures) console.log(`  flaky or failing: ${failure}`);
    for (const [pid, command] of left)
      console.log(`  left running (killed): ${pid} ${command.slice(0, 200)}`);
  }
} finally {
  for (const hog of hogs) hog.kill('SIGKILL');
}
console.log(bad ? 'stress: FAILED' : 'stress: every run passed and left nothing behind');
process.exitCode = bad ? 1 : 0;
