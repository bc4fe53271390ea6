import { textOf } from '@asyncmcp-internal/test-support';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { EmptyResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { type CliProcess, startGatewayCli, startServeWorkers, within } from './cli-process.js';
import {
  CLIENT_TIMEOUT_MS,
  callTool,
  expectNoUnknownSessions,
  pollUntil,
  useCliEmulator,
  useGatewayClients,
} from './e2e-suite.js';
import { WORKER_SERVER } from './fixtures.js';

/** The bound on a test's calls together. */
const CALLS_MS = 60_000;
const VISIBILITY_TIMEOUT_SECONDS = 5;

// `asyncmcp-proxy serve --stateless` workers on one request queue, the real gateway CLI in front, SDK
// clients through it: any worker answers any request of any session, and a worker that dies loses nothing.
describe('stateless serve workers on one queue (end to end)', () => {
  const sqs = useCliEmulator();
  const { connect } = useGatewayClients('stateless-e2e');

  async function startWorkers(requestQueueUrl: string, count: number): Promise<CliProcess[]> {
    const flags = ['--stateless', '--visibility-timeout', String(VISIBILITY_TIMEOUT_SECONDS)];
    const { workers, serving } = await startServeWorkers(sqs, count, {
      requestQueueUrl,
      flags,
      command: [process.execPath, WORKER_SERVER],
    });
    for (const log of serving) {
      expect(log.stateless).toBe(true);
      expect(log.inboxQueueUrl).toBeUndefined();
    }
    return workers;
  }

  function startGateway(requestQueueUrl: string): Promise<string> {
    return startGatewayCli(sqs, ['--request-queue-url', requestQueueUrl]);
  }

  async function queueCounts(queueUrl: string): Promise<{ visible: number; notVisible: number }> {
    const { Attributes } = await sqs.sqsClient.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
      notVisible: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  /** Deletes are asynchronous: the queue empties soon after the last answer. */
  async function untilEmpty(queueUrl: string): Promise<void> {
    await pollUntil(async () => (await sqs.queueDepth(queueUrl)) === 0, 'the request queue emptying');
  }

  it('answers the calls of one session on several workers, all of them', async () => {
    const requestQueueUrl = await sqs.createQueue('stateless-spread');
    const workers = await startWorkers(requestQueueUrl, 3);
    const pids = new Set(workers.map((worker) => worker.child.pid));
    const url = await startGateway(requestQueueUrl);
    const sessions = await Promise.all(Array.from({ length: 12 }, () => connect(url)));

    const answeredBy = await within(
      Promise.all(
        sessions.map(async (client, session) => {
          const seen: number[] = [];
          for (let index = 0; index < 5; index++) {
            // `echo` and `worker` alternate on the same session; both must come back right.
            const text = `s${session} c${index}`;
            expect(textOf(await callTool(client, 'echo', { text }))).toBe(`echo: ${text}`);
            seen.push(Number(textOf(await callTool(client, 'worker'))));
          }
          return seen;
        }),
      ),
      '120 calls on 12 sessions',
      CALLS_MS,
    );

    for (const seen of answeredBy) for (const pid of seen) expect(pids.has(pid)).toBe(true);
    // What stateless means: no session is held by one worker. 60 `worker` calls spread over 3 workers.
    const spread = answeredBy.filter((seen) => new Set(seen).size > 1);
    expect(spread.length).toBeGreaterThan(0);
    expect(new Set(answeredBy.flat()).size).toBeGreaterThan(1);
    expectNoUnknownSessions(workers);
    await untilEmpty(requestQueueUrl);
  }, 90_000);

  it('loses nothing when a worker is SIGKILLed mid-call: its requests come back for the others', async () => {
    const requestQueueUrl = await sqs.createQueue('stateless-sigkill');
    // The victim starts alone, so the calls surely run on it; the two others join before it dies.
    const [victim] = (await startWorkers(requestQueueUrl, 1)) as [CliProcess];
    const url = await startGateway(requestQueueUrl);
    const sessions = await Promise.all(Array.from({ length: 12 }, () => connect(url)));
    await untilEmpty(requestQueueUrl);

    let settled = 0;
    const holds = sessions.map((client) =>
      callTool(client, 'hold', { ms: 6_000 }).finally(() => {
        settled++;
      }),
    );
    // All 12 received by the victim (nothing visible, 12 in flight): they run there.
    await pollUntil(async () => {
      const { visible, notVisible } = await queueCounts(requestQueueUrl);
      return visible === 0 && notVisible === 12;
    }, 'the victim receiving all 12 calls');
    const others = await startWorkers(requestQueueUrl, 2);
    expect(settled).toBe(0);
    victim.child.kill('SIGKILL');
    const killed = Date.now();
    await within(victim.exited, 'the worker dying');

    const outcomes = await within(Promise.allSettled(holds), 'the 12 calls answered', CALLS_MS);
    const survivors = new Set(others.map((worker) => worker.child.pid));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('fulfilled');
      const pid = Number(textOf((outcome as PromiseFulfilledResult<Awaited<(typeof holds)[0]>>).value));
      expect(survivors.has(pid)).toBe(true);
    }
    // Run again from the start by another worker once the victim's visibility ran out.
    expect(Date.now() - killed).toBeGreaterThanOrEqual(6_000);
    expectNoUnknownSessions(others);
    await untilEmpty(requestQueueUrl);
  }, 90_000);

  it('answers resources/subscribe with a JSON-RPC error naming statelessness', async () => {
    const requestQueueUrl = await sqs.createQueue('stateless-subscribe');
    const workers = await startWorkers(requestQueueUrl, 3);
    const url = await startGateway(requestQueueUrl);
    const client = await connect(url);

    const subscribing = client.request(
      { method: 'resources/subscribe', params: { uri: 'x://y' } },
      EmptyResultSchema,
      { timeout: CLIENT_TIMEOUT_MS },
    );
    await expect(within(subscribing, 'the subscribe answer')).rejects.toThrow(/stateless/);
    // The session carries on.
    expect(textOf(await within(callTool(client, 'echo', { text: 'after' }), 'a call after'))).toBe(
      'echo: after',
    );
    expectNoUnknownSessions(workers);
    await untilEmpty(requestQueueUrl);
  });
});
