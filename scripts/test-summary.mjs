// Adds up the per-package test counts in a `pnpm test` log and prints one closing line,
// "tests: N passed, N failed, N skipped", followed by one line per failed test or file, so a reader
// (or CI, whose output may be cut to its last lines) sees the whole run and what broke at a glance.
import { readFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';

const log = stripVTControlCharacters(readFileSync(process.argv[2] ?? 0, 'utf8'));
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = new Set();
for (const line of log.split('\n')) {
  // The reporter names each failure as " FAIL  <project> <file> > <suite> > <test>"; turbo prefixes
  // the task's name ("@asyncmcp/sqs:test: ").
  const failed = /\bFAIL\s+(\S.*\S)\s*$/.exec(line);
  if (failed) failures.add(failed[1]);
  const match = /Tests\s+(.*)\(\d+\)\s*$/.exec(line);
  if (!match) continue;
  for (const [, count, kind] of match[1].matchAll(/(\d+) (passed|failed|skipped)/g)) {
    totals[kind] += Number(count);
  }
}
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
for (const failure of failures) console.log(`  failed: ${failure}`);
