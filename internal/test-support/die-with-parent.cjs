'use strict';
// Preloaded (`--require`) into every Node.js process a test run starts: the vitest workers through the
// projects' `execArgv`, and whatever the tests spawn through `NODE_OPTIONS`. When the process that
// started this one dies without cleaning up (a worker SIGKILLed, a run interrupted, a task stopped by
// turbo), this one is re-parented; it notices and kills itself, and its own children do the same in turn.
// Polling the parent id works alike on Linux and macOS, needs no native code and no IPC channel.
const { isMainThread } = require('node:worker_threads');

const POLL_MS = 200;
const parent = process.ppid;

if (isMainThread && parent > 1) {
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    process.kill(process.pid, 'SIGKILL');
  }, POLL_MS);
  watch.unref();
}
