import { randomBytes, randomUUID } from 'node:crypto';
import { textOf } from '@asyncmcp-internal/test-support';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import {
  type CliProcess,
  type GatewayRequests,
  spawnGatewayCli,
  startServeCli,
  startServeWorkers,
  within,
} from './cli-process.js';
import { callTool, postUnderSession, useCliEmulator } from './e2e-suite.js';
import { WORKER_SERVER } from './fixtures.js';
import {
  type BalancedGateways,
  CALLS,
  expectRequestsSpreadEvenly,
  failuresOf,
  HEAVY_TEST_MS,
  killFirstGateway,
  range,
  SESSIONS,
  SESSIONS_MS,
  useFleetSessions,
} from './fleet-session.js';

interface Fleet extends BalancedGateways {
  requestQueueUrl: string;
  worker: CliProcess;
  inboxQueueUrl: string;
}

// Two gateway instances on one request queue, each with its own response queue, behind a plain
// round-robin load balancer (the documented nginx config, or a Node proxy that acts like it where nginx is
// missing): consecutive requests of one session land on different instances, so every instance must serve
// sessions another one opened.
describe.each([
  'sqs',
  'sns-sqs',
] as const)('gateway instances behind a round-robin load balancer over %s (end to end)', (backend) => {
  const sqs = useCliEmulator();
  const { balance, runSessions, expectSessionsToOutliveAnInstance } = useFleetSessions('fleet-e2e');

  /** The queue the workers read, and where the gateways send: that queue, or a topic fanned out to it. */
  async function requestPath(
    prefix: string,
  ): Promise<{ requestQueueUrl: string; requests: GatewayRequests }> {
    const requestQueueUrl = await sqs.createQueue(prefix);
    if (backend === 'sqs') return { requestQueueUrl, requests: ['--request-queue-url', requestQueueUrl] };
    // Each gateway makes a response topic of its own (the default), as the README's fleet needs.
    const requestTopicArn = await sqs.createTopic(prefix);
    await sqs.subscribe(requestTopicArn, requestQueueUrl, { raw: true });
    return { requestQueueUrl, requests: ['--request-topic-arn', requestTopicArn] };
  }

  /** Every call of 16 sessions answered through the balancer, spread over both instances, nothing left queued. */
  async function expectRoundRobinAnswered(fleet: BalancedGateways, queueUrls: string[]): Promise<void> {
    const outcomes = await runSessions(fleet.url, SESSIONS, CALLS, 'call');
    const { lines, summary } = failuresOf(outcomes);
    expect(lines, summary).toEqual([]);
    await expectRequestsSpreadEvenly(fleet.balancer, SESSIONS, CALLS);
    // Settled messages are deleted in batches a moment after their answers: wait for the last of them.
    for (const queueUrl of queueUrls) {
      await expect
        .poll(() => sqs.inspect(queueUrl), { timeout: 10_000 })
        .toEqual({ ready: 0, delayed: 0, inFlight: 0 });
    }
  }

  async function startFleet(prefix: string): Promise<Fleet> {
    const { requestQueueUrl, requests } = await requestPath(prefix);
    const { cli: worker, serving } = await startServeCli(sqs, {
      requestQueueUrl,
      backend,
      command: [process.execPath, WORKER_SERVER],
    });
    const gateways = [0, 1].map(() => spawnGatewayCli(sqs, requests));
    return {
      ...(await balance(gateways)),
      requestQueueUrl,
      worker,
      inboxQueueUrl: String(serving.inboxQueueUrl),
    };
  }

  it(
    'answers every call of 16 sessions whose requests are spread over both instances, leaving nothing queued',
    async () => {
      const fleet = await startFleet('fleet-round-robin');
      await expectRoundRobinAnswered(fleet, [fleet.requestQueueUrl, fleet.inboxQueueUrl]);
    },
    HEAVY_TEST_MS,
  );

  it(
    'carries every session on through the other instance when one is SIGKILLed',
    async () => {
      const fleet = await startFleet('fleet-instance-dies');
      await expectSessionsToOutliveAnInstance(fleet);
    },
    HEAVY_TEST_MS,
  );

  it(
    'fails the calls running on a SIGKILLed instance at once, and answers those running on the other',
    async () => {
      const fleet = await startFleet('fleet-calls-in-flight');
      const sessions = 8;
      const opened = await runSessions(fleet.url, sessions, 0, 'open');
      expect(failuresOf(opened).lines).toEqual([]);
      const running = opened.map(({ client }) => {
        return callTool(client as Client, 'wait_release').then(
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
      await killFirstGateway(fleet);
      // Each session's `release` goes through the survivor; a call that ran there then gets its answer.
      await within(
        Promise.all(opened.map(({ client }) => callTool(client as Client, 'release'))),
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

  /**
   * The same fleet before two `serve --stateless` workers, which need the client of each session's
   * initialize on every request: signed over SQS (the client part of the fleet's keys then carries the
   * fleet's tag), unsigned over SNS+SQS.
   */
  async function startStatelessFleet(prefix: string) {
    const signing =
      backend === 'sqs' ? ['--signing-secret', `whsec_${randomBytes(32).toString('base64')}`] : [];
    const { requestQueueUrl, requests } = await requestPath(prefix);
    await startServeWorkers(sqs, 2, {
      requestQueueUrl,
      backend,
      flags: ['--stateless', ...signing],
      command: [process.execPath, WORKER_SERVER],
    });
    const fleet = await balance([0, 1].map(() => spawnGatewayCli(sqs, requests, signing)));
    return { ...fleet, requestQueueUrl };
  }

  it(
    'answers every call of 16 sessions spread over both instances and two stateless workers',
    async () => {
      const fleet = await startStatelessFleet('fleet-stateless');
      await expectRoundRobinAnswered(fleet, [fleet.requestQueueUrl]);
    },
    HEAVY_TEST_MS,
  );

  it(
    'carries the sessions of stateless workers on through the other instance when one is SIGKILLed',
    async () => {
      const fleet = await startStatelessFleet('fleet-stateless-dies');
      await expectSessionsToOutliveAnInstance(fleet);
    },
    HEAVY_TEST_MS,
  );

  it('answers 404 through the balancer for a session no instance opened, at once or after one question', async () => {
    const fleet = await startFleet('fleet-unknown-session');
    // Not of the fleet's form: refused at once. Of its form: refused once the worker says it holds none.
    // Round robin and nothing else running: one probe per instance, so each of them answers one.
    for (const sessionId of [randomUUID(), randomUUID().replaceAll('-', '')])
      for (const _instance of range(fleet.gateways.length)) {
        const response = await postUnderSession(fleet.url, sessionId);
        expect(response.status, response.body).toBe(404);
      }
  });
});
