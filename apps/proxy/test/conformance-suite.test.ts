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
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, cleanEnv, killAll, parseLog, stopEmulator, within } from './cli-process.js';

const require = createRequire(import.meta.url);
/** The example's directory (its package entry is src/index.ts). */
const EXAMPLE_DIR = dirname(dirname(require.resolve('@asyncmcp-examples/everything-server')));
/** The example is TypeScript source: its stdio entry runs under tsx's loader, resolved from the example. */
const STDIO_SERVER = join(EXAMPLE_DIR, 'src', 'stdio.ts');
const TSX_LOADER = pathToFileURL(createRequire(join(EXAMPLE_DIR, 'package.json')).resolve('tsx')).href;
/** What serve runs for each session, after `--`. */
const SERVER_COMMAND = ['--', process.execPath, '--import', TSX_LOADER, STDIO_SERVER];

/** One run of the suite through a path: ~30 sessions, each a child process, every message via the transport. */
const SUITE_TIMEOUT_MS = 400_000;

/**
 * The hybrid's tools whose answers serve POSTs to the gateway's webhook instead of the SSE stream: a
 * plain answer, one after progress notifications on the stream, and one after a sampling request the
 * client answers on the stream. The suite calls each of them once; every other answer takes the stream.
 * Nothing orders the stream and the webhook (see StreamableHttpWebhookClientTransport): the progress
 * check holds because the last progress notification is written to the stream before serve starts the
 * webhook POST of the answer, which the gateway has to accept as a new HTTP request first.
 */
const HYBRID_WEBHOOK_TOOLS = ['test_simple_text', 'test_tool_with_progress', 'test_sampling'];

const key = (check: ConformanceCheck) => `${check.scenario}/${check.id}`;
const idsWith = (result: ServerConformanceResult, passed: boolean) =>
  result.checks
    .filter((check) => (check.status === 'SUCCESS') === passed)
    .map(key)
    .sort();
const notPassed = (result: ServerConformanceResult) =>
  result.checks
    .filter((check) => check.status !== 'SUCCESS')
    .map((check) => `${key(check)} ${check.status}: ${check.errorMessage ?? ''}`)
    .join('\n');
const counts = (path: string, result: ServerConformanceResult) =>
  `conformance, ${path}: ${result.passed} passed, ${result.failed} failed, ` +
  `${result.warnings} warnings of ${result.checks.length} in ${result.durationMs} ms`;

/** serve and the gateway of one path, both running, and the gateway's MCP endpoint. */
interface Started {
  serve: CliProcess;
  gateway: CliProcess;
  url: string;
}

interface Path {
  /** The path as the counts line and the test name say it. */
  name: string;
  start(): Promise<Started>;
  /**
   * Checks the server passes directly that fail on this path for a reason of the transport itself
   * (each with its cause in a comment); asserted exactly, so a fix shows up as a failing test.
   */
  knownFailures: readonly string[];
  /** Assertions of the path's own, after the run. */
  verify?(started: Started): void;
}

// The official MCP conformance suite, end to end through both halves of asyncmcp-proxy:
//   runner ──HTTP──▶ gateway (node dist/cli.js) ──<backend>──▶ serve (node dist/cli.js serve) ──stdio──▶ everything-server
// against the same server reached directly over Streamable HTTP, as the baseline, for each backend.
describe('official MCP conformance suite: gateway → <backend> → serve → stdio server', () => {
  let sqs: SqsEmulator;
  let baseline: ServerConformanceResult;

  beforeAll(async () => {
    // The runner needs Node 22; the first run installs it (see the everything-server example).
    await ensureNode22();
    sqs = await startSqsEmulator();
    const direct = await startEverythingHttpServer({ port: 0 });
    try {
      baseline = await runServerConformance({ url: direct.url });
    } finally {
      await direct.close();
    }
    console.info(counts('direct over HTTP', baseline));
    expect(baseline.passed, notPassed(baseline)).toBeGreaterThan(0);
  }, 480_000);

  afterEach(async () => {
    await killAll();
  });

  afterAll(async () => {
    await stopEmulator(sqs);
  });

  const awsFlags = () => ['--endpoint-url', sqs.endpoint, '--region', 'us-east-1'];

  /** serve on an HTTP endpoint of its own (webhook, hybrid), and the gateway in front of its `url`. */
  async function startOverHttp(backend: 'webhook' | 'hybrid', serveFlags: string[]): Promise<Started> {
    const serve = new CliProcess(
      [
        'serve',
        '--backend',
        backend,
        '--port',
        '0',
        '--allow-private-networks',
        ...serveFlags,
        ...SERVER_COMMAND,
      ],
      cleanEnv(),
    );
    const serverUrl = String((await serve.waitForLog('serving')).url);
    const gateway = new CliProcess(
      ['--backend', backend, '--server-url', serverUrl, '--port', '0'],
      cleanEnv(),
    );
    return { serve, gateway, url: await gateway.url() };
  }

  const paths: Path[] = [
    {
      name: 'gateway → SQS → serve → stdio',
      async start() {
        const requestQueueUrl = await sqs.createQueue('conformance-requests');
        const flags = ['--backend', 'sqs', '--request-queue-url', requestQueueUrl, ...awsFlags()];
        const serve = new CliProcess(['serve', ...flags, ...SERVER_COMMAND], cleanEnv());
        await serve.waitForLog('serving');
        const gateway = new CliProcess([...flags, '--port', '0'], cleanEnv());
        return { serve, gateway, url: await gateway.url() };
      },
      knownFailures: [],
    },
    {
      name: 'gateway → SNS+SQS → serve → stdio',
      async start() {
        // serve reads a queue subscribed to the request topic; the gateway makes its own response
        // topic and queue, and removes them when it stops.
        const requestTopicArn = await sqs.createTopic('conformance-requests');
        const requestQueueUrl = await sqs.createQueue('conformance-topic-requests');
        await sqs.subscribe(requestTopicArn, requestQueueUrl, { raw: true });
        const serve = new CliProcess(
          [
            'serve',
            '--backend',
            'sns-sqs',
            '--request-queue-url',
            requestQueueUrl,
            ...awsFlags(),
            ...SERVER_COMMAND,
          ],
          cleanEnv(),
        );
        await serve.waitForLog('serving');
        const gateway = new CliProcess(
          ['--backend', 'sns-sqs', '--request-topic-arn', requestTopicArn, ...awsFlags(), '--port', '0'],
          cleanEnv(),
        );
        return { serve, gateway, url: await gateway.url() };
      },
      knownFailures: [],
    },
    {
      name: 'gateway → webhook → serve → stdio',
      start: () => startOverHttp('webhook', []),
      knownFailures: [],
    },
    {
      name: 'gateway → hybrid → serve → stdio',
      // At debug, serve logs each answer its webhook took.
      start: () =>
        startOverHttp('hybrid', [
          ...HYBRID_WEBHOOK_TOOLS.flatMap((tool) => ['--webhook-tool', tool]),
          '--log-level',
          'debug',
        ]),
      knownFailures: [],
      verify({ serve }) {
        // Each webhook tool's answer did come by webhook (a fallback to the stream logs a warning).
        const byWebhook = serve.lines.stdout
          .map(parseLog)
          .filter((log) => log?.msg === 'answer delivered by webhook').length;
        console.info(`gateway → hybrid → serve → stdio: ${byWebhook} answers delivered by webhook`);
        expect(byWebhook).toBe(HYBRID_WEBHOOK_TOOLS.length);
      },
    },
  ];

  for (const path of paths) {
    it(
      `passes ${path.name} every check the server passes directly`,
      async () => {
        const started = await path.start();
        const { serve, gateway, url } = started;

        const result = await runServerConformance({ url, timeoutMs: SUITE_TIMEOUT_MS });
        console.info(counts(path.name, result));

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
          `${path.name}: gateway sessions: ${gatewaySessions}; serve opened ${opened} sessions ` +
            `(one child process each); ${troubles.length} warning or error log lines` +
            troubles.map((log) => `\n  ${JSON.stringify(log)}`).join(''),
        );
        const failing = `${path.name}:\n${notPassed(result)}\n\ndirectly:\n${notPassed(baseline)}`;

        // Exactly the baseline's passed checks, but for the path's known failures; nothing else fails.
        const known = [...path.knownFailures].sort();
        expect(
          idsWith(baseline, true).filter((id) => known.includes(id)),
          'known failures the server passes directly',
        ).toEqual(known);
        expect(idsWith(result, true), failing).toEqual(
          idsWith(baseline, true).filter((id) => !known.includes(id)),
        );
        expect(idsWith(result, false), failing).toEqual([...idsWith(baseline, false), ...known].sort());
        expect(result.failed, failing).toBe(baseline.failed + known.length);
        expect(result.checks.length).toBe(baseline.checks.length);
        // Every session of the run reached serve, each with its own child process; none was evicted.
        expect(gatewaySessions).toBeGreaterThanOrEqual(20);
        expect(opened).toBe(gatewaySessions);
        expect(evicted).toBe(0);
        expect(troubles).toEqual([]);
        path.verify?.(started);

        serve.child.kill('SIGTERM');
        gateway.child.kill('SIGTERM');
        expect(await serve.waitForExit()).toEqual({ code: 0, signal: null });
        expect(await gateway.waitForExit()).toEqual({ code: 0, signal: null });
        await within(serve.drained, 'the end of the serve output');
      },
      SUITE_TIMEOUT_MS + 120_000,
    );
  }
});
