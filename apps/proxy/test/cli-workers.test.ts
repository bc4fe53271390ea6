import { textOf } from '@asyncmcp-internal/test-support';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { type CliProcess, startGatewayCli, startServeWorkers, WAIT_MS, within } from './cli-process.js';
import {
  callTool,
  expectNoUnknownSessions,
  pollUntil,
  statusUnderSession,
  useCliEmulator,
  useGatewayClients,
} from './e2e-suite.js';
import { WORKER_SERVER } from './fixtures.js';

/** Longer than any wait below: a call that fails did not fail by timing out. */
const HOLD_MS = 120_000;
/**
 * The tests that start three workers and a dozen sessions: each wait inside has its own bound, and on a
 * loaded machine (CI runs suites side by side) they add up to more than the default per-test bound.
 */
const HEAVY_TEST_MS = 150_000;
/** What one more session opened at the same moment may add to the wait: a server process starting. */
const SESSION_START_MS = 3_000;

interface Session {
  client: Client;
  /** The gateway's id for the session. */
  sessionId: string;
}

// Several `asyncmcp-proxy serve` workers on one request queue, the real gateway CLI in front, SDK clients
// through it: what people run MCP on queues for, and what happens when a worker dies.
describe('serve workers on one queue (end to end)', () => {
  const sqs = useCliEmulator();
  const clients = useGatewayClients('workers-e2e');

  async function startWorkers(
    requestQueueUrl: string,
    count: number,
    flags: string[] = [],
    backend: 'sqs' | 'sns-sqs' = 'sqs',
  ) {
    return startServeWorkers(sqs, count, {
      requestQueueUrl,
      backend,
      flags,
      command: [process.execPath, WORKER_SERVER],
    });
  }

  function startGateway(requestQueueUrl: string): Promise<string> {
    return startGatewayCli(sqs, ['--request-queue-url', requestQueueUrl]);
  }

  /** Workers reading a queue subscribed to a request topic, and a gateway publishing to that topic. */
  async function startOverSns(count: number, extra: string[]) {
    const requestTopicArn = await sqs.createTopic('workers-sns-requests');
    const requestQueueUrl = await sqs.createQueue('workers-sns-requests');
    await sqs.subscribe(requestTopicArn, requestQueueUrl, { raw: true });
    const { workers, serving } = await startWorkers(requestQueueUrl, count, extra, 'sns-sqs');
    return {
      workers,
      serving,
      requestQueueUrl,
      url: await startGatewayCli(sqs, ['--request-topic-arn', requestTopicArn]),
    };
  }

  async function connect(url: string): Promise<Session> {
    const client = await clients.connect(url);
    return { client, sessionId: client.transport?.sessionId as string };
  }

  function call(session: Session, name: string, args: Record<string, unknown> = {}) {
    return callTool(session.client, name, args);
  }

  /** The pid of the serve worker holding a session. */
  async function workerOf(session: Session): Promise<number> {
    return Number(textOf(await within(call(session, 'worker'), 'tools/call worker')));
  }

  /** Until the gateway answers the session's next request with 404 (bounded). */
  async function until404(url: string, sessionId: string): Promise<void> {
    await pollUntil(
      async () => (await statusUnderSession(url, sessionId)) === 404,
      `404 for session ${sessionId}`,
    );
  }

  /**
   * `count` sessions opened at once. Each starts a server process on its worker (serve runs one per
   * session), so a dozen at once on a loaded machine take longer than one connect's bound: the bound grows
   * with the count.
   */
  async function openSessionsOn(url: string, count: number) {
    const opening = (index: number) =>
      clients.connectOver(
        new StreamableHTTPClientTransport(new URL(url)),
        `connecting session ${index + 1} of ${count} through the gateway`,
        WAIT_MS + count * SESSION_START_MS,
      );
    const sessions = await Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const client = await opening(index);
        return { client, sessionId: client.transport?.sessionId as string };
      }),
    );
    const holders = await Promise.all(sessions.map((session) => workerOf(session)));
    return sessions.map((session, index) => ({ ...session, worker: holders[index] as number }));
  }

  /**
   * Every call of every session answered, each on the worker that opened its session. Some sessions were
   * opened while only the first worker ran, so they are surely on it while two more workers read the
   * request queue: with no hand-back budget, a request another worker received would be lost, so only
   * delivery to the worker's own inbox gets them all answered.
   */
  async function expectAffinity(sessions: Awaited<ReturnType<typeof openSessionsOn>>, calls: number) {
    await within(
      Promise.all(
        sessions.map(async (session) => {
          for (let index = 0; index < calls; index++) {
            const result = await call(session, 'echo', { text: `call ${index}` });
            expect(textOf(result)).toBe(`echo: call ${index}`);
            expect(await workerOf(session)).toBe(session.worker);
          }
        }),
      ),
      `${sessions.length * calls * 2} calls`,
      60_000,
    );
  }

  async function expectNothingLeft(workers: CliProcess[], queues: string[]) {
    expectNoUnknownSessions(workers);
    // Settled messages are deleted in batches a moment after their answers: wait for the last of them.
    for (const queueUrl of queues) {
      await expect.poll(() => sqs.queueDepth(queueUrl), { timeout: 10_000 }).toBe(0);
    }
  }

  it(
    'sends each session to the worker holding it: every call answered with no hand-back to the queue',
    async () => {
      const requestQueueUrl = await sqs.createQueue('workers-affinity');
      const flags = ['--release-unknown-sessions', '0'];
      const first = await startWorkers(requestQueueUrl, 1, flags);
      const url = await startGateway(requestQueueUrl);
      const early = await openSessionsOn(url, 6);
      const more = await startWorkers(requestQueueUrl, 2, flags);
      const late = await openSessionsOn(url, 6);
      expect(new Set(early.map((session) => session.worker))).toEqual(new Set([first.workers[0]?.child.pid]));

      await expectAffinity([...early, ...late], 10);
      const serving = [...first.serving, ...more.serving];
      for (const log of serving) expect(log.inboxQueueUrl).toMatch(/asyncmcp-worker-/);
      await expectNothingLeft(
        [...first.workers, ...more.workers],
        [requestQueueUrl, ...serving.map((log) => String(log.inboxQueueUrl))],
      );
    },
    HEAVY_TEST_MS,
  );

  it(
    'does the same over SNS+SQS: the session goes to the worker’s inbox, not through the topic',
    async () => {
      const flags = ['--release-unknown-sessions', '0'];
      const { workers, serving, requestQueueUrl, url } = await startOverSns(1, flags);
      const early = await openSessionsOn(url, 6);
      const more = await startWorkers(requestQueueUrl, 2, [...flags], 'sns-sqs');
      const late = await openSessionsOn(url, 3);
      expect(new Set(early.map((session) => session.worker))).toEqual(new Set([workers[0]?.child.pid]));

      await expectAffinity([...early, ...late], 5);
      const all = [...serving, ...more.serving];
      await expectNothingLeft(
        [...workers, ...more.workers],
        [requestQueueUrl, ...all.map((log) => String(log.inboxQueueUrl))],
      );
    },
    HEAVY_TEST_MS,
  );

  it(
    'fails the calls of a SIGKILLed worker fast, naming the cause; its sessions get 404, the others see nothing',
    async () => {
      const requestQueueUrl = await sqs.createQueue('workers-sigkill');
      const { workers } = await startWorkers(requestQueueUrl, 3, ['--alive-interval', '2']);
      const url = await startGateway(requestQueueUrl);
      const sessions = await openSessionsOn(url, 12);
      const victimPid = sessions[0]?.worker as number;
      const victim = workers.find((worker) => worker.child.pid === victimPid) as CliProcess;
      const lost = sessions.filter((session) => session.worker === victimPid);
      const kept = sessions.filter((session) => session.worker !== victimPid);

      // One call running on each lost session when the worker dies, one sent after.
      const running = lost.map((session) => call(session, 'hold', { ms: HOLD_MS }));
      victim.child.kill('SIGKILL');
      await within(victim.exited, 'the worker dying');
      const later = lost.map((session) => call(session, 'echo', { text: 'after' }));

      for (const outcome of await within(
        Promise.allSettled([...running, ...later]),
        'the lost calls failing',
      )) {
        expect(outcome.status).toBe('rejected');
        const message = String((outcome as PromiseRejectedResult).reason);
        expect(message).toMatch(/Session lost|not found|terminated|ended|404/i);
        expect(message).not.toMatch(/timed out/i);
      }
      for (const session of lost) await until404(url, session.sessionId);

      // A new session works at once, on a live worker; the other workers' sessions carry on.
      const fresh = await connect(url);
      expect(textOf(await within(call(fresh, 'echo', { text: 'new' }), 'a new session'))).toBe('echo: new');
      expect(await workerOf(fresh)).not.toBe(victimPid);
      for (const session of kept) {
        expect(textOf(await within(call(session, 'echo', { text: 'still' }), 'a kept session'))).toBe(
          'echo: still',
        );
      }
    },
    HEAVY_TEST_MS,
  );

  it('serves a request that a dead worker’s open receive took, once its visibility timeout passes', async () => {
    const requestQueueUrl = await sqs.createQueue('workers-ghost-receive');
    const { workers } = await startWorkers(requestQueueUrl, 1);
    const url = await startGateway(requestQueueUrl);
    const dead = workers[0] as CliProcess;
    dead.child.kill('SIGKILL');
    await within(dead.exited, 'the worker dying');

    // The dead worker's long poll is still open at the queue service, which hands it the `initialize`:
    // the message is in flight to nobody.
    const connecting = clients.connectOver(
      new StreamableHTTPClientTransport(new URL(url)),
      'connecting while the only reader is a dead worker’s receive',
    );
    await expect
      .poll(async () => (await sqs.inspect(requestQueueUrl)).inFlight, { timeout: WAIT_MS })
      .toBe(1);

    // A live worker gets it when its visibility timeout (QUEUE_DEFAULTS, 10 s) passes: within the
    // connect's bound, where the former 30 s made the client wait past it.
    await startWorkers(requestQueueUrl, 1);
    const client = await connecting;
    expect(textOf(await within(callTool(client, 'echo', { text: 'late' }), 'a call'))).toBe('echo: late');
  });

  it('does not take a long call for a dead worker', async () => {
    const requestQueueUrl = await sqs.createQueue('workers-long');
    await startWorkers(requestQueueUrl, 2, ['--alive-interval', '0.2']);
    const url = await startGateway(requestQueueUrl);
    const session = await connect(url);
    // Ten alive intervals of work: thirty times the silence that would mean the worker is gone.
    const result = await within(call(session, 'hold', { ms: 2_000 }), 'a long call');
    expect(Number(textOf(result))).toBeGreaterThan(0);
  });

  it('says so on SIGTERM: the stopping worker’s idle sessions get 404, the others carry on', async () => {
    const requestQueueUrl = await sqs.createQueue('workers-sigterm');
    const { workers } = await startWorkers(requestQueueUrl, 2);
    const url = await startGateway(requestQueueUrl);
    const sessions = await openSessionsOn(url, 6);
    const stopping = sessions[0]?.worker as number;
    const worker = workers.find((candidate) => candidate.child.pid === stopping) as CliProcess;

    worker.child.kill('SIGTERM');
    expect((await worker.waitForExit()).code).toBe(0);
    for (const session of sessions.filter((candidate) => candidate.worker === stopping)) {
      await until404(url, session.sessionId);
    }
    for (const session of sessions.filter((candidate) => candidate.worker !== stopping)) {
      expect(textOf(await within(call(session, 'echo', { text: 'on' }), 'a kept session'))).toBe('echo: on');
    }
  });
});
