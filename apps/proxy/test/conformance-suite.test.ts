import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type ConformanceCheck,
  ensureNode22,
  runServerConformance,
  type ServerConformanceResult,
  startEverythingHttpServer,
} from '@asyncmcp-examples/everything-server';
import { type SqsEmulator, startSqsEmulator } from '@asyncmcp-internal/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, cleanEnv, killAll, parseLog, stopEmulator, within } from './cli-process.js';

const require = createRequire(import.meta.url);
/** The example's directory (its package entry is src/index.ts). */
const EXAMPLE_DIR = dirname(dirname(require.resolve('@asyncmcp-examples/everything-server')));
/** The example is TypeScript source: its stdio entry runs under tsx's loader, resolved from the example. */
const STDIO_SERVER = join(EXAMPLE_DIR, 'src', 'stdio.ts');
const TSX_LOADER = pathToFileURL(createRequire(join(EXAMPLE_DIR, 'package.json')).resolve('tsx')).href;

/** One run of the suite through SQS: ~30 sessions, each a child process, every message via the emulator. */
const SUITE_TIMEOUT_MS = 400_000;

const key = (check: ConformanceCheck) => `${check.scenario}/${check.id}`;
const passedIds = (result: ServerConformanceResult) =>
  result.checks
    .filter((check) => check.status === 'SUCCESS')
    .map(key)
    .sort();
const notPassed = (result: ServerConformanceResult) =>
  result.checks
    .filter((check) => check.status !== 'SUCCESS')
    .map((check) => `${key(check)} ${check.status}: ${check.errorMessage ?? ''}`)
    .join('\n');

// The official MCP conformance suite, end to end through both halves of asyncmcp-proxy:
//   runner ──HTTP──▶ gateway (node dist/cli.js) ──SQS──▶ serve (node dist/cli.js serve) ──stdio──▶ everything-server
// against the same server reached directly over Streamable HTTP, as the baseline.
describe('official MCP conformance suite: gateway → SQS → serve → stdio server', () => {
  let sqs: SqsEmulator;

  beforeAll(async () => {
    // The runner needs Node 22; the first run installs it (see the everything-server example).
    await ensureNode22();
    sqs = await startSqsEmulator();
  }, 300_000);

  afterAll(async () => {
    await killAll();
    await stopEmulator(sqs);
  });

  it(
    'passes through the gateway and serve every check the server passes directly',
    async () => {
      const direct = await startEverythingHttpServer({ port: 0 });
      let baseline: ServerConformanceResult;
      try {
        baseline = await runServerConformance({ url: direct.url });
      } finally {
        await direct.close();
      }

      const requestQueueUrl = await sqs.createQueue('conformance-requests');
      const sqsFlags = [
        '--backend',
        'sqs',
        '--request-queue-url',
        requestQueueUrl,
        '--endpoint-url',
        sqs.endpoint,
        '--region',
        'us-east-1',
      ];
      // Defaults for sessions on both sides: the runner's ~30 sessions, never deleted, fit the caps
      // (gateway 1000, serve 100) and outlive the run under the 30-minute idle timeouts.
      const serve = new CliProcess(
        ['serve', ...sqsFlags, '--', process.execPath, '--import', TSX_LOADER, STDIO_SERVER],
        cleanEnv(),
      );
      await serve.waitForLog('serving');
      const gateway = new CliProcess([...sqsFlags, '--port', '0'], cleanEnv());
      const url = await gateway.url();

      const viaGateway = await runServerConformance({ url, timeoutMs: SUITE_TIMEOUT_MS });

      console.info(
        `conformance, direct over HTTP: ${baseline.passed} passed, ${baseline.failed} failed, ` +
          `${baseline.warnings} warnings of ${baseline.checks.length} in ${baseline.durationMs} ms\n` +
          `conformance, gateway → SQS → serve → stdio: ${viaGateway.passed} passed, ${viaGateway.failed} failed, ` +
          `${viaGateway.warnings} warnings of ${viaGateway.checks.length} in ${viaGateway.durationMs} ms`,
      );

      // Each gateway session is one serve session with its own child process; the runner deletes none.
      const health = await within(fetch(new URL('/health', url)), 'GET /health');
      const gatewaySessions = Number(((await health.json()) as { sessions: unknown }).sessions);
      const logs = (cli: CliProcess) => cli.lines.stdout.map(parseLog);
      const opened = logs(serve).filter((log) => log?.msg === 'session opened').length;
      const evicted = logs(serve).filter((log) => log?.msg === 'session evicted after being idle').length;
      // Warnings and errors either side logged during the run (the AWS SDK's Node version notice aside).
      const troubles = [...logs(gateway), ...logs(serve)].filter(
        (log) => Number(log?.level) >= 40 && log?.msg !== 'runtime warning',
      );
      console.info(
        `gateway sessions: ${gatewaySessions}; serve opened ${opened} sessions (one child process each); ` +
          `${troubles.length} warning or error log lines` +
          troubles.map((log) => `\n  ${JSON.stringify(log)}`).join(''),
      );
      const failing = `through the gateway:\n${notPassed(viaGateway)}\n\ndirectly:\n${notPassed(baseline)}`;

      expect(baseline.passed, notPassed(baseline)).toBeGreaterThan(0);
      expect(passedIds(viaGateway), failing).toEqual(passedIds(baseline));
      expect(viaGateway.failed, failing).toBe(baseline.failed);
      expect(viaGateway.checks.length).toBe(baseline.checks.length);
      // Every session of the run reached serve, each with its own child process; none was evicted.
      expect(gatewaySessions).toBeGreaterThanOrEqual(20);
      expect(opened).toBe(gatewaySessions);
      expect(evicted).toBe(0);
      expect(troubles).toEqual([]);

      serve.child.kill('SIGTERM');
      gateway.child.kill('SIGTERM');
      expect(await serve.waitForExit()).toEqual({ code: 0, signal: null });
      expect(await gateway.waitForExit()).toEqual({ code: 0, signal: null });
      await within(serve.drained, 'the end of the serve output');
    },
    SUITE_TIMEOUT_MS + 120_000,
  );
});
