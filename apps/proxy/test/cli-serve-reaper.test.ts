import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, cleanEnv, emulatorBackendFlags, within } from './cli-process.js';
import { pollUntil, sqsClientTransport, useCliEmulator, useGatewayClients } from './e2e-suite.js';
import { isRunning } from './processes.js';
import { textOf } from './test-server.js';

// A stdio server that outlives the end of its stdin, with a grandchild that ignores SIGTERM.
const FIXTURE = fileURLToPath(new URL('./fixtures/stubborn-stdio-server.mjs', import.meta.url));

async function waitUntilGone(pid: number, what: string): Promise<void> {
  await pollUntil(async () => !isRunning(pid), `${what} (pid ${pid}) ending`);
}

/** The reaper sidecar `parent` started (its command line names the script). */
function reapersOf(parent: number): number[] {
  const listing = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return listing
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter(
      (match) => match !== null && Number(match[2]) === parent && match[3]?.includes('stdio-reaper.cjs'),
    )
    .map((match) => Number(match?.[1]));
}

// `asyncmcp-proxy serve` SIGKILLed, so that none of its own shutdown runs: its stdio children, and what
// they started, must not outlive it.
describe('asyncmcp-proxy serve, killed', () => {
  const sqs = useCliEmulator();
  const pids: number[] = [];
  // Registered before the clients' hook, so it runs after it (after-hooks run newest first).
  afterEach(() => {
    for (const pid of pids.splice(0)) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  });
  const { connectOver } = useGatewayClients('cli-serve-reaper');

  it('takes its stdio children and their descendants with it when SIGKILLed', async () => {
    const requestQueueUrl = await sqs.createQueue('cli-serve-reaper-requests');
    const cli = new CliProcess(
      [
        'serve',
        ...emulatorBackendFlags(sqs, 'sqs', ['--request-queue-url', requestQueueUrl]),
        '--',
        // The test run's NODE_OPTIONS preloads a guard that would end the child with serve by itself;
        // without it, only serve's reaper can.
        'env',
        '-u',
        'NODE_OPTIONS',
        process.execPath,
        FIXTURE,
      ],
      cleanEnv(),
    );
    await cli.waitForLog('serving');

    const client = await connectOver(
      await sqsClientTransport(sqs, requestQueueUrl, 'cli-serve-reaper-client'),
      'connecting over SQS',
    );
    const { child, grandchild } = JSON.parse(
      textOf(await within(client.callTool({ name: 'pids', arguments: {} }), 'the pids call')),
    ) as { child: number; grandchild: number };
    const reapers = reapersOf(cli.child.pid!);
    pids.push(child, grandchild, ...reapers);
    expect(reapers).toHaveLength(1);
    expect([child, grandchild].every(isRunning)).toBe(true);

    cli.child.kill('SIGKILL');
    expect(await cli.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });
    await waitUntilGone(child, 'the child');
    await waitUntilGone(grandchild, 'the grandchild');
    await waitUntilGone(reapers[0]!, 'the reaper');
  });
});
