import { describe, expect, it, vi } from 'vitest';
import { QUEUE_DEFAULTS } from './defaults.js';
import { type Disposition, QueueConsumer, type QueueMessage, type QueueSource } from './queue-consumer.js';
import { countdown } from './testing/message-tap.js';
import { TurnBatcher } from './turn-batcher.js';

/** A scripted queue: hands out the batches it is given, then waits (like a long poll) until aborted. */
class FakeQueue implements QueueSource {
  readonly description = 'fake-queue';
  readonly batches: Array<QueueMessage[] | Error> = [];
  readonly deleted: string[] = [];
  readonly visibility: Array<[string, number]> = [];
  receives = 0;
  #onReceive: Array<() => void> = [];
  #wake: (() => void) | undefined;

  push(batch: QueueMessage[] | Error): void {
    this.batches.push(batch);
    this.#wake?.();
  }

  /** Resolves when `receive` has been called `count` times in total. */
  receivedTimes(count: number): Promise<void> {
    const waiter = countdown(count - this.receives, 5_000);
    if (count <= this.receives) return Promise.resolve();
    this.#onReceive.push(waiter.signal);
    return waiter.done;
  }

  async receive({ signal }: { signal: AbortSignal }): Promise<QueueMessage[]> {
    this.receives++;
    for (const listener of this.#onReceive) listener();
    while (this.batches.length === 0) {
      if (signal.aborted) return [];
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    const next = this.batches.shift() as QueueMessage[] | Error;
    if (next instanceof Error) throw next;
    return next;
  }

  async delete(message: QueueMessage): Promise<void> {
    this.deleted.push(message.messageId);
  }

  async changeVisibility(message: QueueMessage, seconds: number): Promise<void> {
    this.visibility.push([message.messageId, seconds]);
  }
}

function message(id: string, key: string): QueueMessage {
  return { messageId: id, receiptHandle: `rh-${id}`, body: id, attributes: { Key: key } };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

const keyOf = (m: QueueMessage) => m.attributes.Key;

describe('QueueConsumer', () => {
  it('hands over one key in arrival order while other keys go ahead', async () => {
    const queue = new FakeQueue();
    const handedOver: string[] = [];
    const blockA1 = deferred<void>();
    const allHanded = countdown(4, 5_000);
    const bHanded = countdown(2, 5_000);
    const consumer = new QueueConsumer({
      source: queue,
      orderingKey: keyOf,
      handle: async (m) => {
        if (m.messageId === 'a1') await blockA1.promise;
        handedOver.push(m.messageId);
        allHanded.signal();
        if (m.messageId.startsWith('b')) bHanded.signal();
        return { settled: Promise.resolve<Disposition>('delete') };
      },
    });
    consumer.start();
    queue.push([message('a1', 'A'), message('b1', 'B'), message('a2', 'A'), message('b2', 'B')]);
    await bHanded.done;
    // B's messages went through while A's first was still being handed over; A waited in order.
    expect(handedOver).toEqual(['b1', 'b2']);
    blockA1.resolve();
    await allHanded.done;
    expect(handedOver).toEqual(['b1', 'b2', 'a1', 'a2']);
    await consumer.stop();
  });

  it('lets the sends a message sets off go out before it asks the queue again', async () => {
    // A worker answers by a send gathered for the next turn (TurnBatcher); building the next receive
    // before that send went out would hold the answer back behind it.
    const queue = new FakeQueue();
    const events: string[] = [];
    const originalReceive = queue.receive.bind(queue);
    queue.receive = (request) => {
      events.push('receive');
      return originalReceive(request);
    };
    const batcher = new TurnBatcher<string>({
      maxEntries: 10,
      maxBytes: 1_000,
      sendOne: async (_key, entry) => {
        events.push(`send ${entry}`);
      },
      sendBatch: async (_key, entries) => {
        events.push(`send ${entries.join(',')}`);
        return entries.map(() => undefined);
      },
    });
    const consumer = new QueueConsumer({
      source: queue,
      handle: async (m) => {
        events.push(`handle ${m.messageId}`);
        return { settled: batcher.add('answers', `answer-${m.messageId}`, 10).then(() => 'delete' as const) };
      },
    });
    consumer.start();
    queue.push([message('a', 'A'), message('b', 'B')]);
    await queue.receivedTimes(2);
    await consumer.stop();
    expect(events).toEqual(['receive', 'handle a', 'handle b', 'send answer-a,answer-b', 'receive']);
  });

  it('deletes, releases, defers or leaves a message according to how it settled', async () => {
    const queue = new FakeQueue();
    const settled = countdown(4, 5_000);
    const outcomes: Record<string, Disposition> = { d: 'delete', r: 'release', l: 'defer', t: 'retry' };
    const consumer = new QueueConsumer({
      source: queue,
      handle: async (m) => ({
        settled: Promise.resolve(outcomes[m.messageId] as Disposition).finally(() =>
          queueMicrotask(settled.signal),
        ),
      }),
    });
    consumer.start();
    queue.push([message('d', 'x'), message('r', 'y'), message('l', 'w'), message('t', 'z')]);
    await settled.done;
    await consumer.stop();
    expect(queue.deleted).toEqual(['d']);
    expect(queue.visibility).toContainEqual(['r', 0]);
    expect(queue.visibility).toContainEqual(['l', QUEUE_DEFAULTS.deferredReleaseSeconds]);
    expect(queue.visibility.filter(([id]) => id === 't')).toEqual([]);
    expect(consumer.stats).toMatchObject({ deleted: 1, released: 1, deferred: 1, retried: 1 });
  });

  it('does not delete a message before it settles', async () => {
    const queue = new FakeQueue();
    const done = deferred<Disposition>();
    const handed = countdown(1, 5_000);
    const consumer = new QueueConsumer({
      source: queue,
      handle: async () => {
        handed.signal();
        return { settled: done.promise };
      },
    });
    consumer.start();
    queue.push([message('m', 'k')]);
    await handed.done;
    await queue.receivedTimes(2);
    expect(queue.deleted).toEqual([]);
    expect(consumer.inFlight).toBe(1);
    done.resolve('delete');
    await consumer.stop();
    expect(queue.deleted).toEqual(['m']);
  });

  it('polls again at once after an empty receive', async () => {
    const queue = new FakeQueue();
    const consumer = new QueueConsumer({
      source: queue,
      handle: async () => ({ settled: Promise.resolve('delete') }),
    });
    for (let i = 0; i < 5; i++) queue.push([]);
    consumer.start();
    await queue.receivedTimes(6);
    expect(consumer.stats.receiveErrors).toBe(0);
    await consumer.stop();
  });

  it('lets the work a received batch sets off run before it asks for more', async () => {
    const queue = new FakeQueue();
    const events: string[] = [];
    const consumer = new QueueConsumer({
      source: queue,
      handle: async (received) => {
        // An answer that takes a few promise hops to reach its socket, as a web stream's write does.
        void (async () => {
          for (let hop = 0; hop < 20; hop++) await Promise.resolve();
          events.push(`answered ${received.messageId}`);
        })();
        return { settled: Promise.resolve('delete') };
      },
    });
    queue.push([message('a', 'k'), message('b', 'k')]);
    consumer.start();
    await queue.receivedTimes(1);
    await queue.receivedTimes(2);
    events.push('receive 2');
    expect(events).toEqual(['answered a', 'answered b', 'receive 2']);
    await consumer.stop();
  });

  it('backs off after receive errors, logs them, and recovers', async () => {
    const queue = new FakeQueue();
    const lines: string[] = [];
    const recovered = countdown(1, 5_000);
    const logger = {
      debug: () => {},
      info: (_: Record<string, unknown>, msg?: string) => {
        lines.push(`info ${msg}`);
        if (msg === 'receive recovered') recovered.signal();
      },
      warn: () => {},
      error: (fields: Record<string, unknown>, msg?: string) =>
        lines.push(`error ${msg} ${String(fields.err)}`),
    };
    const consumer = new QueueConsumer({
      source: queue,
      handle: async () => ({ settled: Promise.resolve('delete') }),
      errorBackoff: { baseMs: 1, maxMs: 2 },
      logger,
    });
    queue.push(new Error('endpoint unreachable'));
    queue.push(new Error('throttled'));
    queue.push([]);
    consumer.start();
    await recovered.done;
    expect(lines).toEqual([
      'error receive failed; retrying endpoint unreachable',
      'error receive failed; retrying throttled',
      'info receive recovered',
    ]);
    expect(consumer.healthy).toBe(true);
    expect(consumer.stats.receiveErrors).toBe(2);
    await consumer.stop();
  });

  it('stops receiving at maxReceived until a message settles', async () => {
    const queue = new FakeQueue();
    const gates = new Map<string, ReturnType<typeof deferred<Disposition>>>();
    const consumer = new QueueConsumer({
      source: queue,
      maxInFlight: 2,
      maxReceived: 2,
      handle: async (m) => {
        const gate = deferred<Disposition>();
        gates.set(m.messageId, gate);
        return { settled: gate.promise };
      },
    });
    consumer.start();
    queue.push([message('1', 'a'), message('2', 'b')]);
    await queue.receivedTimes(1);
    // Both handed over; the loop must now wait instead of receiving again.
    await Promise.resolve();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(queue.receives).toBe(1);
    gates.get('1')?.resolve('delete');
    await queue.receivedTimes(2);
    gates.get('2')?.resolve('delete');
    await consumer.stop();
    expect(queue.deleted.sort()).toEqual(['1', '2']);
  });

  it('runs at most maxInFlight slot-holding messages; the rest wait in order, and light ones pass them', async () => {
    const queue = new FakeQueue();
    const gates = new Map<string, ReturnType<typeof deferred<Disposition>>>();
    const handed: string[] = [];
    const consumer = new QueueConsumer({
      source: queue,
      maxInFlight: 2,
      // Messages whose body is "note" settle at once, like a notification.
      holdsSlot: (m) => m.body !== 'note',
      handle: async (m) => {
        handed.push(m.messageId);
        if (m.body === 'note') return { settled: Promise.resolve('delete' as const) };
        const gate = deferred<Disposition>();
        gates.set(m.messageId, gate);
        return { settled: gate.promise };
      },
    });
    consumer.start();
    queue.push([
      message('1', 'a'),
      message('2', 'b'),
      message('3', 'c'),
      { ...message('4', 'a'), body: 'note' },
    ]);
    await queue.receivedTimes(2);
    await new Promise<void>((resolve) => setImmediate(resolve));
    // Two run, the third waits for a slot; the light one was handed over past it.
    expect([...handed].sort()).toEqual(['1', '2', '4']);
    expect(queue.deleted).toEqual(['4']);
    gates.get('1')?.resolve('delete');
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(handed).toHaveLength(4);
    expect(handed.at(-1)).toBe('3');
    gates.get('2')?.resolve('delete');
    gates.get('3')?.resolve('delete');
    await consumer.stop();
    expect(queue.deleted.sort()).toEqual(['1', '2', '3', '4']);
  });

  it('hands the messages still waiting for a slot back to the queue when it stops', async () => {
    const queue = new FakeQueue();
    const first = deferred<Disposition>();
    const handed: string[] = [];
    const consumer = new QueueConsumer({
      source: queue,
      maxInFlight: 1,
      handle: async (m) => {
        handed.push(m.messageId);
        return { settled: first.promise };
      },
    });
    consumer.start();
    queue.push([message('1', 'a'), message('2', 'b')]);
    await queue.receivedTimes(2);
    const stopping = consumer.stop({ timeoutMs: 5_000 });
    first.resolve('delete');
    await stopping;
    expect(handed).toEqual(['1']);
    expect(queue.deleted).toEqual(['1']);
    expect(consumer.stats.released).toBe(1);
  });

  it('extends the visibility of a message that is still running', async () => {
    const queue = new FakeQueue();
    const done = deferred<Disposition>();
    const consumer = new QueueConsumer({
      source: queue,
      visibilityTimeoutSeconds: 0.2,
      handle: async () => ({ settled: done.promise }),
    });
    const extended = countdown(2, 5_000);
    const change = queue.changeVisibility.bind(queue);
    queue.changeVisibility = async (m, seconds) => {
      await change(m, seconds);
      extended.signal();
    };
    consumer.start();
    queue.push([message('slow', 'k')]);
    await extended.done;
    expect(queue.visibility.slice(0, 2)).toEqual([
      ['slow', 0.2],
      ['slow', 0.2],
    ]);
    done.resolve('delete');
    await consumer.stop();
  });

  it('stop() ends the long poll and waits for running messages up to its deadline', async () => {
    const queue = new FakeQueue();
    const never = new Promise<Disposition>(() => {});
    const consumer = new QueueConsumer({ source: queue, handle: async () => ({ settled: never }) });
    consumer.start();
    queue.push([message('stuck', 'k')]);
    await queue.receivedTimes(2);
    await consumer.stop({ timeoutMs: 10 });
    expect(consumer.running).toBe(false);
    expect(queue.deleted).toEqual([]);
  });

  it('gathers deletions into batches of at most ten when the queue can delete in batches', async () => {
    const queue = new FakeQueue();
    const batches: string[][] = [];
    const batchQueue = Object.assign(queue, {
      async deleteBatch(messages: readonly QueueMessage[]) {
        batches.push(messages.map((m) => m.messageId));
        for (const m of messages) queue.deleted.push(m.messageId);
        return messages.filter((m) => m.messageId === 'm13');
      },
    });
    const warned = countdown(1, 5_000);
    const logger = { debug: () => {}, info: () => {}, error: () => {}, warn: () => warned.signal() };
    const settledAll = countdown(15, 5_000);
    const consumer = new QueueConsumer({
      source: batchQueue,
      logger,
      handle: async () => {
        queueMicrotask(settledAll.signal);
        return { settled: Promise.resolve<Disposition>('delete') };
      },
    });
    consumer.start();
    queue.push(Array.from({ length: 10 }, (_, i) => message(`m${i}`, `k${i}`)));
    queue.push(Array.from({ length: 5 }, (_, i) => message(`m${10 + i}`, `k${10 + i}`)));
    await settledAll.done;
    await warned.done; // m13 was refused by the queue: logged, left to come back
    await consumer.stop();
    expect(queue.deleted.sort()).toEqual(Array.from({ length: 15 }, (_, i) => `m${i}`).sort());
    expect(batches.every((batch) => batch.length <= 10)).toBe(true);
    expect(batches.length).toBeLessThan(15);
    expect(consumer.stats.deleted).toBe(14);
  });

  describe('deletions wait a little for company', () => {
    /** Runs `test` on fake timeouts, and on real ones again after it however it ends. */
    async function onFakeTimers(test: () => Promise<void>): Promise<void> {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        await test();
      } finally {
        vi.useRealTimers();
      }
    }

    /** A queue that deletes in batches and says when each batch call is made. */
    function batchingQueue() {
      const queue = new FakeQueue();
      const batches: string[][] = [];
      let onBatch: (() => void) | undefined;
      const source = Object.assign(queue, {
        async deleteBatch(messages: readonly QueueMessage[]) {
          batches.push(messages.map((m) => m.messageId));
          onBatch?.();
          return [];
        },
      });
      const nextBatch = () =>
        new Promise<void>((resolve) => {
          onBatch = resolve;
        });
      return { queue, source, batches, nextBatch };
    }

    it('deletes messages settled within the linger in one call, after it', () =>
      onFakeTimers(async () => {
        const { queue, source, batches, nextBatch } = batchingQueue();
        const settle = [deferred<Disposition>(), deferred<Disposition>(), deferred<Disposition>()];
        const handed = countdown(3, 5_000);
        const consumer = new QueueConsumer({
          source,
          deleteLingerMs: 50,
          handle: async (m) => {
            handed.signal();
            return { settled: (settle[Number(m.messageId)] as { promise: Promise<Disposition> }).promise };
          },
        });
        consumer.start();
        queue.push([message('0', 'a'), message('1', 'b'), message('2', 'c')]);
        await handed.done;
        // Settled one by one, each in a turn of its own: none is deleted before the linger ends.
        for (const each of settle) {
          each.resolve('delete');
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        expect(batches).toEqual([]);
        const deleted = nextBatch();
        await vi.advanceTimersByTimeAsync(50);
        await deleted;
        expect(batches).toEqual([['0', '1', '2']]);
        await consumer.stop();
      }));

    it('deletes a full batch at once', () =>
      onFakeTimers(async () => {
        const { queue, source, batches, nextBatch } = batchingQueue();
        const consumer = new QueueConsumer({
          source,
          deleteLingerMs: 60_000,
          handle: async () => ({ settled: Promise.resolve<Disposition>('delete') }),
        });
        consumer.start();
        const deleted = nextBatch();
        queue.push(Array.from({ length: 10 }, (_, i) => message(`m${i}`, `k${i}`)));
        // No timer advanced: the tenth deletion filled the batch.
        await deleted;
        expect(batches).toEqual([Array.from({ length: 10 }, (_, i) => `m${i}`)]);
        await consumer.stop();
      }));

    it('gives a settled message its slot back while it waits to be deleted', () =>
      onFakeTimers(async () => {
        const { queue, source, batches } = batchingQueue();
        const handed: string[] = [];
        const both = countdown(2, 5_000);
        const consumer = new QueueConsumer({
          source,
          maxInFlight: 1,
          deleteLingerMs: 60_000,
          handle: async (m) => {
            handed.push(m.messageId);
            both.signal();
            return { settled: Promise.resolve<Disposition>('delete') };
          },
        });
        consumer.start();
        queue.push([message('first', 'a'), message('second', 'b')]);
        // One slot: the second runs only once the first gave it back, and the first is not deleted yet.
        await both.done;
        expect(handed).toEqual(['first', 'second']);
        expect(batches).toEqual([]);
        await consumer.stop();
        expect(batches.flat().sort()).toEqual(['first', 'second']);
      }));

    it('deletes what waits as soon as it stops, without waiting out the linger', async () => {
      const { queue, source, batches } = batchingQueue();
      const settled = countdown(2, 5_000);
      const consumer = new QueueConsumer({
        source,
        deleteLingerMs: 3_600_000,
        handle: async () => {
          queueMicrotask(settled.signal);
          return { settled: Promise.resolve<Disposition>('delete') };
        },
      });
      consumer.start();
      queue.push([message('a', 'a'), message('b', 'b')]);
      await settled.done;
      await consumer.stop();
      expect(batches.flat().sort()).toEqual(['a', 'b']);
    });
  });
});
