import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { LEASE_TAG } from '@asyncmcp/sqs';
import { textOf } from '@asyncmcp-internal/test-support';
import { GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { DeleteQueueCommand, GetQueueUrlCommand, TagQueueCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { type GatewayRequests, parseLog, spawnGatewayCli, startServeCli, within } from './cli-process.js';
import { callTool, echo, pollUntil, useCliEmulator, useGatewayClients } from './e2e-suite.js';
import { WORKER_SERVER } from './fixtures.js';

// The queue service going away and coming back, and a gateway going away for good: what each process
// made is made again, and nothing waits for a timeout to learn what happened.
describe('the queue service and the gateway going away (end to end)', () => {
  const sqs = useCliEmulator();
  const { connect } = useGatewayClients('outage-e2e');

  /**
   * What the operator makes (again, after the service lost it): the request queue, and for `sns-sqs` the
   * request topic with the queue subscribed. Returns the queue, and how the gateway names where requests go.
   */
  async function makeRequestPath(
    backend: 'sqs' | 'sns-sqs',
    name: string,
  ): Promise<{ requestQueueUrl: string; requests: GatewayRequests }> {
    const requestQueueUrl = await sqs.createNamedQueue(name);
    if (backend === 'sqs') return { requestQueueUrl, requests: ['--request-queue-url', requestQueueUrl] };
    const requestTopicArn = await sqs.createNamedTopic(name);
    await sqs.subscribe(requestTopicArn, requestQueueUrl, { raw: true });
    return { requestQueueUrl, requests: ['--request-topic-arn', requestTopicArn] };
  }

  /** Processes below `rootPid` (children, grandchildren …) whose command line names `needle`, from /proc. */
  async function serverProcesses(rootPid: number, needle: string): Promise<number[]> {
    const parentOf = new Map<number, number>();
    const commandOf = new Map<number, string>();
    for (const entry of await readdir('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      try {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        // The command name in parentheses may hold spaces; the parent pid is the second field after it.
        parentOf.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
        commandOf.set(pid, (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' '));
      } catch {
        // Gone while we looked.
      }
    }
    const found: number[] = [];
    for (const [pid, command] of commandOf) {
      if (!command.includes(needle)) continue;
      for (let up = parentOf.get(pid); up !== undefined && up > 1; up = parentOf.get(up)) {
        if (up === rootPid) {
          found.push(pid);
          break;
        }
      }
    }
    return found;
  }

  it.each([
    'sqs',
    'sns-sqs',
  ] as const)('%s: fails calls at once while the service is down; the first calls once it is back succeed, on the same session and a new one', async (backend) => {
    const requestName = `outage-requests-${randomUUID().slice(0, 8)}`;
    const { requestQueueUrl, requests } = await makeRequestPath(backend, requestName);
    const { cli: worker, serving } = await startServeCli(sqs, {
      requestQueueUrl,
      backend,
      command: [process.execPath, WORKER_SERVER],
    });
    const gateway = spawnGatewayCli(sqs, requests);
    const url = await gateway.url();
    const ready = new URL('/ready', url);
    const client = await connect(url);
    const responseQueueUrl = String(
      (await gateway.waitForLog('created the gateway response queue')).responseQueueUrl,
    );
    expect(textOf(await echo(client, 'before'))).toBe('echo: before');

    // Down: a call gets an error naming the cause at once, not a hang until the client's timeout.
    await sqs.stop();
    try {
      await expect(
        within(echo(client, 'down'), 'the call failing while the service is down'),
      ).rejects.toThrow(/unreachable/i);
      expect((await fetch(ready)).status).toBe(503);
    } finally {
      // Back with nothing: every queue is gone; the operator makes the request queue again, as they made it.
      await sqs.restart();
    }
    await makeRequestPath(backend, requestName);

    // Called at once, before either process has polled since: the session the worker holds carries on,
    // and a new one opens. Each process makes again, under the same name, the queue it made — the gateway
    // its response queue before it asks for an answer there, the worker its inbox, which the gateway gives
    // the time to come back that a queue it reached before gets.
    const [same, fresh] = await Promise.all([
      within(echo(client, 'after'), 'the same session answering'),
      within(
        connect(url).then((other) => echo(other, 'new')),
        'a new session',
      ),
    ]);
    expect(textOf(same)).toBe('echo: after');
    expect(textOf(fresh)).toBe('echo: new');
    // Made again by its poller finding it missing, or before the worker named it in the new session's
    // initialize answer, whichever came first.
    const remade = new Set([
      'made the worker inbox again: the queue service no longer had it',
      'made sure the worker inbox exists: a receive had failed',
    ]);
    await within(
      worker.waitForLine(
        'stdout',
        (line) => remade.has(String(parseLog(line)?.msg)),
        'the worker remaking its inbox',
      ),
      'the worker remaking its inbox',
    );
    expect(String(serving.inboxQueueUrl)).toMatch(/asyncmcp-worker-/);
    // Nothing is left behind on any queue, and the gateway says it is ready again.
    for (const queue of [requestQueueUrl, String(serving.inboxQueueUrl), responseQueueUrl]) {
      await pollUntil(
        async () => {
          const seen = await sqs.inspect(queue);
          return seen.ready === 0 && seen.inFlight === 0;
        },
        `${queue} being empty`,
        { interval: 100 },
      );
    }
    await pollUntil(async () => (await fetch(ready)).status === 200, 'the gateway being ready again', {
      interval: 100,
    });
  }, 90_000);

  it("ends a worker's session, and its server process, when its gateway's response queue is gone", async () => {
    const requestQueueUrl = await sqs.createQueue('outage-gone-gateway');
    const { cli: worker } = await startServeCli(sqs, {
      requestQueueUrl,
      command: [process.execPath, WORKER_SERVER],
    });
    const gateway = spawnGatewayCli(sqs, ['--request-queue-url', requestQueueUrl]);
    const url = await gateway.url();
    // The gateway makes its response queue for its first session.
    const client = await connect(url);
    const responseQueueUrl = String(
      (await gateway.waitForLog('created the gateway response queue')).responseQueueUrl,
    );
    expect(textOf(await echo(client, 'hello'))).toBe('echo: hello');

    // A call is running on the worker when the gateway dies for good and its queue is removed (by the
    // next start's clean-up, a lifecycle policy, or an operator); it ends only when the test says so.
    void callTool(client, 'wait_release').catch(() => undefined);
    await within(
      worker.waitForLine('stderr', (line) => line.includes('wait_release: running'), 'the call running'),
      'the call reaching the server',
    );
    gateway.child.kill('SIGKILL');
    await within(gateway.exited, 'the gateway dying');
    await sqs.sqsClient.send(new DeleteQueueCommand({ QueueUrl: responseQueueUrl }));
    const [server] = await serverProcesses(worker.child.pid as number, WORKER_SERVER);
    process.kill(server as number, 'SIGUSR2');

    // The answer finds no queue: the worker ends the session then, not at its idle timeout.
    const gone = await within(
      worker.waitForLog("the session's client address no longer exists; ending the session"),
      'the worker ending the session',
    );
    await within(worker.waitForLog('session closed'), 'the session closing');
    expect(String(gone.err)).toMatch(/queue does not exist/);
    await pollUntil(
      async () => (await serverProcesses(worker.child.pid as number, WORKER_SERVER)).length === 0,
      "the session's server process ending",
      { interval: 100 },
    );
  }, 90_000);

  it.each([
    'sqs',
    'sns-sqs',
  ] as const)('%s: what a SIGKILLed gateway made is removed by the next one to start once its lease ran out', async (backend) => {
    const { requestQueueUrl, requests } = await makeRequestPath(
      backend,
      `leftover-requests-${randomUUID().slice(0, 8)}`,
    );
    await startServeCli(sqs, { requestQueueUrl, backend, command: [process.execPath, WORKER_SERVER] });
    const killed = spawnGatewayCli(sqs, requests);
    expect(textOf(await echo(await connect(await killed.url()), 'first'))).toBe('echo: first');
    const queueUrl = String((await killed.waitForLog('created the gateway response queue')).responseQueueUrl);
    const topicArn =
      backend === 'sns-sqs'
        ? String((await killed.waitForLog('created the gateway response topic')).responseTopicArn)
        : undefined;
    killed.child.kill('SIGKILL');
    await within(killed.exited, 'the gateway dying');

    // Its lease would run out 15 minutes on: the tag that holds it says it did a minute ago.
    const ranOut = String(Math.floor(Date.now() / 1000) - 60);
    await sqs.sqsClient.send(new TagQueueCommand({ QueueUrl: queueUrl, Tags: { [LEASE_TAG]: ranOut } }));
    const next = spawnGatewayCli(sqs, requests);
    // The next instance makes its own queue with its first session, and sweeps beside it.
    const client = await connect(await next.url());
    const swept = await within(
      next.waitForLog('deleted the response queue of a gateway instance that stopped without removing it'),
      'the sweep',
    );
    expect(swept.responseQueueUrl).toBe(queueUrl);
    const name = queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
    await expect(sqs.sqsClient.send(new GetQueueUrlCommand({ QueueName: name }))).rejects.toThrow(
      /does not exist/,
    );
    if (topicArn !== undefined) {
      const topic = await next.waitForLog(
        'deleted the response topic of a gateway instance that stopped without removing it',
      );
      expect(topic.responseTopicArn).toBe(topicArn);
      await expect(
        sqs.snsClient.send(new GetTopicAttributesCommand({ TopicArn: topicArn })),
      ).rejects.toThrow();
    }
    expect(textOf(await echo(client, 'after'))).toBe('echo: after');
  }, 90_000);
});
