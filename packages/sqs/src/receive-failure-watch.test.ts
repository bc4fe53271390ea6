import type { QueueMessage, QueueSource } from '@asyncmcp/core';
import { describe, expect, it } from 'vitest';
import { ReceiveFailureWatch } from './receive-failure-watch.js';

const message = (id: string): QueueMessage => ({
  messageId: id,
  receiptHandle: `rh-${id}`,
  body: id,
  attributes: {},
});

function source(overrides: Partial<QueueSource> = {}) {
  const deleted: string[] = [];
  const queue: QueueSource = {
    description: 'requests',
    receive: async () => [message('a')],
    delete: async (m) => {
      deleted.push(m.messageId);
    },
    changeVisibility: async () => undefined,
    ...overrides,
  };
  return { queue, deleted };
}

const request = (signal = new AbortController().signal) => ({
  maxMessages: 10,
  waitTimeSeconds: 0,
  visibilityTimeoutSeconds: 30,
  signal,
});

describe('ReceiveFailureWatch', () => {
  it('tells of a failed receive and passes the failure on, and says nothing of one that worked', async () => {
    let failing = false;
    let told = 0;
    const { queue } = source({
      receive: async () => {
        if (failing) throw new Error('unreachable');
        return [message('a')];
      },
    });
    const watched = new ReceiveFailureWatch(queue, () => told++);
    expect(await watched.receive(request())).toEqual([message('a')]);
    expect(told).toBe(0);
    failing = true;
    await expect(watched.receive(request())).rejects.toThrow('unreachable');
    expect(told).toBe(1);
  });

  it('says nothing of a receive that failed because the consumer stopped it', async () => {
    let told = 0;
    const abort = new AbortController();
    const { queue } = source({
      receive: async () => {
        abort.abort();
        throw new Error('aborted');
      },
    });
    const watched = new ReceiveFailureWatch(queue, () => told++);
    await expect(watched.receive(request(abort.signal))).rejects.toThrow('aborted');
    expect(told).toBe(0);
  });

  it('deletes in batches when its source can, one by one otherwise', async () => {
    const batched: string[][] = [];
    const withBatches = source({
      deleteBatch: async (messages) => {
        batched.push(messages.map((m) => m.messageId));
        return [];
      },
    });
    expect(
      await new ReceiveFailureWatch(withBatches.queue, () => undefined).deleteBatch([
        message('a'),
        message('b'),
      ]),
    ).toEqual([]);
    expect(batched).toEqual([['a', 'b']]);
    const oneByOne = source();
    expect(
      await new ReceiveFailureWatch(oneByOne.queue, () => undefined).deleteBatch([
        message('c'),
        message('d'),
      ]),
    ).toEqual([]);
    expect(oneByOne.deleted).toEqual(['c', 'd']);
    expect(new ReceiveFailureWatch(oneByOne.queue, () => undefined).description).toBe('requests');
  });
});
