import { silentLogger } from '@asyncmcp/core';
import { RecordingLogger } from '@asyncmcp/core/testing';
import { cleanupsAfterEach, useSqsEmulator } from '@asyncmcp-internal/test-support';
import { CreateQueueCommand, ListQueuesCommand, ListQueueTagsCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { LEASE_TAG, ResponseQueueLease } from './response-queue-lease.js';
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
    await make('killed', { [LEASE_TAG]: past });
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
    // The sweep runs beside the start: wait for its one deletion.
    await expect
      .poll(() => queuesNamed(prefix), { timeout: 10_000 })
      .toEqual([`${prefix}alive`, `${prefix}by-hand`, own].sort());
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
});
