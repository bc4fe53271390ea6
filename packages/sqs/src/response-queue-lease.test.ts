import { AsyncMcpErrorCode, ConfigurationError, silentLogger } from '@asyncmcp/core';
import { RecordingLogger } from '@asyncmcp/core/testing';
import { cleanupsAfterEach, useSqsEmulator } from '@asyncmcp-internal/test-support';
import {
  CreateQueueCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  TagQueueCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it, vi } from 'vitest';
import { LEASE_TAG, MADE_BY_TAG, RESPONSE_QUEUE_LEASE, ResponseQueueLease } from './response-queue-lease.js';
import { sqsBackend } from './sqs-backend.js';

const emulator = useSqsEmulator();
const cleanups = cleanupsAfterEach();

async function queuesNamed(prefix: string): Promise<string[]> {
  const { QueueUrls } = await emulator.sqsClient.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
  return (QueueUrls ?? []).map((url) => url.slice(url.lastIndexOf('/') + 1)).sort();
}

describe('the lease on a response queue a gateway makes', () => {
  it('tags the queue it makes with a lease, and removes it with the queue on close', async () => {
    const prefix = `lease-own-${Date.now()}-`;
    const requestQueueUrl = await emulator.createQueue('lease-requests');
    const backend = sqsBackend({
      sqsClient: emulator.sqsClient,
      requestQueueUrl,
      responseQueueNamePrefix: prefix,
    });
    await backend.start();
    const queueUrl = backend.responseQueueUrl as string;
    const { Tags } = await emulator.sqsClient.send(new ListQueueTagsCommand({ QueueUrl: queueUrl }));
    const until = Number(Tags?.[LEASE_TAG]);
    expect(Tags?.[MADE_BY_TAG]).toBe('sqs');
    // About 15 minutes ahead (the default), whatever the clock says exactly.
    expect(until * 1000).toBeGreaterThan(Date.now() + 10 * 60_000);
    expect(until * 1000).toBeLessThan(Date.now() + 20 * 60_000);
    await backend.close();
    expect(await queuesNamed(prefix)).toEqual([]);
  });

  it("deletes, on start, the queues whose lease ran out (a killed instance's), and only those", async () => {
    const prefix = `lease-sweep-${Date.now()}-`;
    const past = String(Math.floor(Date.now() / 1000) - 60);
    const future = String(Math.floor(Date.now() / 1000) + 600);
    const make = (name: string, tags?: Record<string, string>) =>
      emulator.sqsClient.send(new CreateQueueCommand({ QueueName: `${prefix}${name}`, tags }));
    // Made before queues named their maker, and by an sqs backend: both the sqs sweep's to delete.
    await make('killed', { [LEASE_TAG]: past });
    await make('killed-sqs', { [LEASE_TAG]: past, [MADE_BY_TAG]: 'sqs' });
    // An sns-sqs instance's, with the same prefix: its topic is gone only when an sns-sqs sweep removes
    // it with the queue, so the sqs sweep leaves it.
    await make('killed-sns-sqs', { [LEASE_TAG]: past, [MADE_BY_TAG]: 'sns-sqs' });
    await make('alive', { [LEASE_TAG]: future });
    // Made by hand with the same prefix, no lease: never ours to delete.
    await make('by-hand');
    const requestQueueUrl = await emulator.createQueue('lease-requests');
    const backend = sqsBackend({
      sqsClient: emulator.sqsClient,
      requestQueueUrl,
      responseQueueNamePrefix: prefix,
    });
    cleanups.push(() => backend.close());
    await backend.start();
    const own = (backend.responseQueueUrl as string).slice(
      (backend.responseQueueUrl as string).lastIndexOf('/') + 1,
    );
    // The sweep runs beside the start: wait for its two deletions.
    await expect
      .poll(() => queuesNamed(prefix), { timeout: 10_000 })
      .toEqual([`${prefix}alive`, `${prefix}by-hand`, `${prefix}killed-sns-sqs`, own].sort());
  });

  it('removes what was made beside a leftover queue first, and keeps the queue when that fails', async () => {
    const prefix = `lease-alongside-${Date.now()}-`;
    const past = String(Math.floor(Date.now() / 1000) - 60);
    for (const name of ['first', 'second']) {
      await emulator.sqsClient.send(
        new CreateQueueCommand({ QueueName: `${prefix}${name}`, tags: { [LEASE_TAG]: past } }),
      );
    }
    const logger = new RecordingLogger();
    const asked: string[] = [];
    const lease = new ResponseQueueLease({
      sqsClient: emulator.sqsClient,
      namePrefix: prefix,
      madeBy: 'sqs',
      logger,
      removeAlongside: async ({ queueName, queueUrl }) => {
        asked.push(queueName);
        expect(queueUrl.endsWith(`/${queueName}`)).toBe(true);
        // The queue is still there while what was made beside it goes.
        expect(await queuesNamed(prefix)).toContain(queueName);
        if (queueName.endsWith('second')) throw new Error('the topic would not go');
      },
    });
    expect(await lease.sweep('none')).toBe(1);
    expect(asked.sort()).toEqual([`${prefix}first`, `${prefix}second`]);
    // The one whose companion could not be removed stays for the next instance to try again.
    expect(await queuesNamed(prefix)).toEqual([`${prefix}second`]);
    expect(
      logger.entries.find((entry) => entry.message === 'could not sweep a response queue')?.fields,
    ).toMatchObject({ err: expect.stringContaining('the topic would not go') });
  });

  it('renews the lease while the instance runs', async () => {
    const queueUrl = await emulator.createQueue('lease-renewed');
    let now = Date.now();
    const lease = new ResponseQueueLease({
      sqsClient: emulator.sqsClient,
      namePrefix: 'lease-renewed',
      madeBy: 'sqs',
      leaseSeconds: 60,
      renewEverySeconds: 0.05,
      logger: silentLogger,
      now: () => now,
    });
    cleanups.push(async () => lease.stop());
    now += 3_600_000;
    lease.keep(queueUrl);
    const expected = String(Math.floor(now / 1000) + 60);
    await expect
      .poll(
        async () =>
          (await emulator.sqsClient.send(new ListQueueTagsCommand({ QueueUrl: queueUrl }))).Tags?.[LEASE_TAG],
        { timeout: 10_000 },
      )
      .toBe(expected);
  });

  it('renews every third of the lease, so a live instance outlasts a lease shorter than the default renewal', async () => {
    const prefix = `lease-short-${Date.now()}-`;
    const queueUrl = await emulator.createQueue(`${prefix}live`);
    const start = Date.now();
    let now = start;
    const live = new ResponseQueueLease({
      sqsClient: emulator.sqsClient,
      namePrefix: prefix,
      madeBy: 'sqs',
      leaseSeconds: 60,
      logger: silentLogger,
      now: () => now,
    });
    expect(live.renewEverySeconds).toBe(20);
    await emulator.sqsClient.send(new TagQueueCommand({ QueueUrl: queueUrl, Tags: live.tags() }));
    // Only the renewal's interval is faked: the AWS SDK's own timers run as they do.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    cleanups.push(async () => {
      live.stop();
      vi.useRealTimers();
    });
    live.keep(queueUrl);
    const tagOf = async () =>
      (await emulator.sqsClient.send(new ListQueueTagsCommand({ QueueUrl: queueUrl }))).Tags?.[LEASE_TAG];
    // Two renewals, 20 and 40 s on; each says the instance is alive for 60 s from then.
    for (const seconds of [20, 40]) {
      now = start + seconds * 1000;
      vi.advanceTimersByTime(20_000);
      await expect.poll(tagOf, { timeout: 10_000 }).toBe(String(Math.floor(now / 1000) + 60));
    }
    // 61 s after it started, another instance sweeps: the first lease would have run out, the renewed one has not.
    const sweeper = new ResponseQueueLease({
      sqsClient: emulator.sqsClient,
      namePrefix: prefix,
      madeBy: 'sqs',
      logger: silentLogger,
      now: () => start + 61_000,
    });
    expect(await sweeper.sweep('none')).toBe(0);
    expect(await queuesNamed(prefix)).toEqual([queueUrl.slice(queueUrl.lastIndexOf('/') + 1)]);
  });
});

describe('the bounds of a response queue lease', () => {
  const make = (options: { leaseSeconds?: number; renewEverySeconds?: number }) =>
    new ResponseQueueLease({
      sqsClient: emulator.sqsClient,
      namePrefix: 'lease-bounds-',
      madeBy: 'sqs',
      logger: silentLogger,
      ...options,
    });

  it('defaults to 900 s, renewed every 300 s', () => {
    const lease = make({});
    expect(lease.leaseSeconds).toBe(RESPONSE_QUEUE_LEASE.seconds);
    expect(lease.renewEverySeconds).toBe(300);
    expect(make({ leaseSeconds: 60, renewEverySeconds: 30 }).renewEverySeconds).toBe(30);
    expect(make({ leaseSeconds: RESPONSE_QUEUE_LEASE.maxSeconds }).leaseSeconds).toBe(604_800);
  });

  it.each([
    59,
    0,
    -60,
    90.5,
    Number.NaN,
    604_801,
  ])('refuses a lease of %s s, naming the bounds', (leaseSeconds) => {
    const refusal = (() => {
      try {
        make({ leaseSeconds });
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(ConfigurationError);
    expect((refusal as ConfigurationError).code).toBe(AsyncMcpErrorCode.Configuration);
    expect((refusal as Error).message).toBe(
      `The response queue lease must be a whole number of seconds from 60 to 604800, not ${leaseSeconds}: another instance judges a lease by its own clock, so a shorter one could have a live instance's queue deleted`,
    );
  });

  it.each([0, -1, 31])('refuses a renewal every %s s of a 60 s lease', (renewEverySeconds) => {
    expect(() => make({ leaseSeconds: 60, renewEverySeconds })).toThrow(
      `The response queue lease's renewal must be more than 0 and at most 30 s (half the 60 s lease, so that one failed renewal does not let it run out), not ${renewEverySeconds} s`,
    );
  });

  it('is refused when the backend is made, before anything is sent', () => {
    expect(() =>
      sqsBackend({
        sqsClient: emulator.sqsClient,
        requestQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/requests',
        responseQueueLeaseSeconds: 30,
      }),
    ).toThrow(ConfigurationError);
  });
});
