import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  findNginx,
  type LoadBalancer,
  type SqsEmulator,
  startLoadBalancer,
  startSqsEmulator,
  textOf,
} from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CliProcess,
  cleanEnv,
  emulatorBackendFlags,
  killAll,
  startServeCli,
  stopEmulator,
  WAIT_MS,
  within,
} from './cli-process.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/worker-server.mjs', import.meta.url));
/** Longer than any wait below: a call that fails did not fail by timing out. */
const CLIENT_TIMEOUT_MS = 120_000;
/** Two gateways, a worker, a load balancer and sixteen sessions: each wait inside has its own bound. */
const HEAVY_TEST_MS = 150_000;
/** The bound on all the sessions' calls together. */
const SESSIONS_MS = 90_000;
const SESSIONS = 16;
const CALLS = 5;
/** `ASYNCMCP_TEST_LOAD_BALANCER=node` runs the Node proxy even where nginx is installed. */
const PREFER = process.env.ASYNCMCP_TEST_LOAD_BALANCER === 'node' ? 'node' : 'nginx';

interface Fleet {
  requestQueueUrl: string;
  worker: CliProcess;
  inboxQueueUrl: string;
  gateways: CliProcess[];
  balancer: LoadBalancer;
  /** The MCP endpoint through the load balancer: what every client here uses. */
  url: string;
}

/** What became of one client's session: `failure` says at which step and why, when it failed. */
interface Outcome {
  index: number;
  client?: Client;
  failure?: string;
}

// Two gateway instances on one request queue, each with its own response queue, behind a plain
// round-robin load balancer (the documented nginx config, or a Node proxy that acts like it where nginx is
// missing): consecutive requests of one session land on different instances, so every instance must serve
// sessions another one opened.
describe.each([
  'sqs',
  'sns-sqs',
] as const)('gateway instances behind a round-robin load balancer over %s (end to end)', (backend) => {
  let sqs: SqsEmulator;
  const clients: Client[] = [];
  const balancers: LoadBalancer[] = [];

  beforeAll(async () => {
    if (PREFER === 'nginx' && findNginx() === undefined) {
      console.warn('nginx not installed: the fleet test runs through the Node round-robin proxy');
    }
    sqs = await startSqsEmulator();
  });

  afterEach(async () => {
    // Clients first, while the balancer still carries their closing requests; then what they went through.
    await Promise.allSettled(clients.splice(0).map((client) => client.close()));
    await Promise.allSettled(balancers.splice(0).map((balancer) => balancer.stop()));
    await killAll();
  });

  afterAll(async () => {
    await stopEmulator(sqs);
  });

  async function startFleet(prefix: string): Promise<Fleet> {
    const requestQueueUrl = await sqs.createQueue(prefix);
    let requests: ['--request-queue-url' | '--request-topic-arn', string] = [
      '--request-queue-url',
      requestQueueUrl,
    ];
    if (backend === 'sns-sqs') {
      // Each gateway makes a response topic of its own (the default), as the README's fleet needs.
      const requestTopicArn = await sqs.createTopic(prefix);
      await sqs.subscribe(requestTopicArn, requestQueueUrl, { raw: true });
      requests = ['--request-topic-arn', requestTopicArn];
    }
    const { cli: worker, serving } = await startServeCli(sqs, {
      requestQueueUrl,
      backend,
      command: [process.execPath, FIXTURE],
    });
    const gateways = [0, 1].map(
      () => new CliProcess([...emulatorBackendFlags(sqs, backend, requests), '--port', '0'], cleanEnv()),
    );
    const urls = (await Promise.all(gateways.map((gateway) => gateway.url()))).map((url) => new URL(url));
    const balancer = await startLoadBalancer({ upstreams: urls.map((url) => url.origin), prefer: PREFER });
    balancers.push(balancer);
    if (PREFER === 'nginx' && findNginx() !== undefined) expect(balancer.kind).toBe('nginx');
    return {
      requestQueueUrl,
      worker,
      inboxQueueUrl: String(serving.inboxQueueUrl),
      gateways,
      balancer,
      url: new URL((urls[0] as URL).pathname, balancer.url).href,
    };
  }

  function echo(client: Client, text: string) {
    return client.callTool({ name: 'echo', arguments: { text } }, undefined, { timeout: CLIENT_TIMEOUT_MS });
  }

  /** Connects a client through the balancer, then runs `calls` echo calls on its session, one after another. */
  async function runSession(url: string, index: number, calls: number, label: string): Promise<Outcome> {
    const client = new Client({ name: 'fleet-e2e', version: '1.0.0' });
    clients.push(client);
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    } catch (error) {
      return { index, failure: `connect: ${String(error)}` };
    }
    for (let call = 0; call < calls; call++) {
      const outcome = await expectEcho(client, `${label} ${index}.${call}`).catch((error) => String(error));
      if (outcome !== undefined) return { index, client, failure: `call ${call}: ${outcome}` };
    }
    return { index, client };
  }

  /** Undefined when the session echoes `text`, else what it said instead. */
  async function expectEcho(client: Client, text: string): Promise<string | undefined> {
    const answer = textOf(await echo(client, text));
    return answer === `echo: ${text}` ? undefined : `answered ${JSON.stringify(answer)}`;
  }

  /** The failures among `outcomes`, one line each, and a summary naming how many failed at which step. */
  function failuresOf(outcomes: Outcome[]): { lines: string[]; summary: string } {
    const failed = outcomes.filter((outcome) => outcome.failure !== undefined);
    const steps = new Map<string, number>();
    for (const { failure } of failed) {
      const step = String(failure).slice(0, String(failure).indexOf(':'));
      steps.set(step, (steps.get(step) ?? 0) + 1);
    }
    const bySteps = [...steps]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([step, count]) => `${count} at ${step}`)
      .join(', ');
    return {
      lines: failed.map(({ index, failure }) => `session ${index}: ${failure}`),
      summary: `${failed.length} of ${outcomes.length} sessions failed${failed.length > 0 ? ` (${bySteps})` : ''}`,
    };
  }

  function range(count: number): number[] {
    return Array.from({ length: count }, (_, index) => index);
  }

  it(
    'answers every call of 16 sessions whose requests are spread over both instances, leaving nothing queued',
    async () => {
      const fleet = await startFleet('fleet-round-robin');
      const outcomes = await within(
        Promise.all(range(SESSIONS).map((index) => runSession(fleet.url, index, CALLS, 'call'))),
        `${SESSIONS} sessions of ${CALLS} calls`,
        SESSIONS_MS,
      );
      const { lines, summary } = failuresOf(outcomes);
      expect(lines, summary).toEqual([]);

      // Round robin, with no instance failing: each one answered about half of the requests.
      const answered = await fleet.balancer.answeredBy();
      const total = Object.values(answered).reduce((sum, count) => sum + count, 0);
      expect(total).toBeGreaterThanOrEqual(SESSIONS * (CALLS + 2));
      for (const count of Object.values(answered))
        expect(count, JSON.stringify(answered)).toBeGreaterThan(total / 4);

      // Settled messages are deleted in batches a moment after their answers: wait for the last of them.
      for (const queueUrl of [fleet.requestQueueUrl, fleet.inboxQueueUrl]) {
        await expect
          .poll(() => sqs.inspect(queueUrl), { timeout: 10_000 })
          .toEqual({ ready: 0, delayed: 0, inFlight: 0 });
      }
    },
    HEAVY_TEST_MS,
  );

  it(
    'carries every session on through the other instance when one is SIGKILLed',
    async () => {
      const fleet = await startFleet('fleet-instance-dies');
      const before = await within(
        Promise.all(range(SESSIONS).map((index) => runSession(fleet.url, index, 1, 'before'))),
        `${SESSIONS} sessions`,
        SESSIONS_MS,
      );
      const opened = failuresOf(before);
      expect(opened.lines, `before the kill: ${opened.summary}`).toEqual([]);

      const victim = fleet.gateways[0] as CliProcess;
      victim.child.kill('SIGKILL');
      await within(victim.exited, 'the instance dying');

      // The balancer takes a refused connection to the next instance, so no client sees the dead one.
      const after = await within(
        Promise.all(
          before.map(async ({ index, client }): Promise<Outcome> => {
            const failure = await expectEcho(client as Client, `after ${index}`).catch((error) =>
              String(error),
            );
            return { index, failure: failure === undefined ? undefined : `call after the kill: ${failure}` };
          }),
        ),
        `${SESSIONS} calls after the kill`,
        SESSIONS_MS,
      );
      const { lines, summary } = failuresOf(after);
      expect(lines, `after the kill: ${summary}`).toEqual([]);
    },
    HEAVY_TEST_MS,
  );

  it(
    'fails the calls running on a SIGKILLed instance at once, and answers those running on the other',
    async () => {
      const fleet = await startFleet('fleet-calls-in-flight');
      const sessions = 8;
      const opened = await within(
        Promise.all(range(sessions).map((index) => runSession(fleet.url, index, 0, 'open'))),
        `${sessions} sessions`,
        SESSIONS_MS,
      );
      expect(failuresOf(opened).lines).toEqual([]);
      const running = opened.map(({ client }) => {
        const call = (client as Client).callTool({ name: 'wait_release', arguments: {} }, undefined, {
          timeout: CLIENT_TIMEOUT_MS,
        });
        return call.then(
          (result) => ({ answered: textOf(result) }),
          (error: unknown) => ({ failed: String(error) }),
        );
      });
      let started = 0;
      await fleet.worker.waitForLine(
        'stderr',
        (line) => line.includes('wait_release: running') && ++started === sessions,
        `${sessions} calls running`,
      );
      const victim = fleet.gateways[0] as CliProcess;
      victim.child.kill('SIGKILL');
      await within(victim.exited, 'the instance dying');
      // Each session's `release` goes through the survivor; a call that ran there then gets its answer.
      await within(
        Promise.all(
          opened.map(({ client }) =>
            (client as Client).callTool({ name: 'release', arguments: {} }, undefined, {
              timeout: CLIENT_TIMEOUT_MS,
            }),
          ),
        ),
        'every release',
        SESSIONS_MS,
      );
      // Far below the client's own timeout: a call whose instance died fails; none waits for an answer
      // that went to the dead instance's queue.
      const outcomes = await within(Promise.all(running), 'every running call settling', 30_000);
      const answered = outcomes.filter((outcome) => 'answered' in outcome);
      const failed = outcomes.filter((outcome) => 'failed' in outcome);
      expect(answered.length + failed.length).toBe(sessions);
      for (const outcome of answered) expect(outcome).toEqual({ answered: 'the genuine answer' });
      expect(failed.length, JSON.stringify(outcomes)).toBeGreaterThan(0);
      expect(answered.length, JSON.stringify(outcomes)).toBeGreaterThan(0);
    },
    HEAVY_TEST_MS,
  );

  it('answers 404 through the balancer for a session no instance opened, at once or after one question', async () => {
    const fleet = await startFleet('fleet-unknown-session');
    // Not of the fleet's form: refused at once. Of its form: refused once the worker says it holds none.
    // Round robin and nothing else running: one probe per instance, so each of them answers one.
    for (const sessionId of [randomUUID(), randomUUID().replaceAll('-', '')])
      for (const _instance of range(fleet.gateways.length)) {
        const response = await within(
          fetch(fleet.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              'mcp-session-id': sessionId,
              'mcp-protocol-version': '2025-11-25',
            },
            body: JSON.stringify({ jsonrpc: '2.0', id: 'probe', method: 'tools/list' }),
            signal: AbortSignal.timeout(WAIT_MS),
          }).then(async (answer) => ({ status: answer.status, body: await answer.text() })),
          'the answer for an unknown session',
        );
        expect(response.status, response.body).toBe(404);
      }
  });
});
