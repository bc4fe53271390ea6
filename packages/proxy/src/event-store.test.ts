import type { JSONRPCMessage } from '@asyncmcp/core';
import { describe, expect, it } from 'vitest';
import { BoundedEventStore, EventStoreBudget } from './event-store.js';
import { PROXY_DEFAULTS } from './proxy-defaults.js';

/** A notification whose JSON is exactly `bytes` long. */
function messageOf(bytes: number, tag = 'x'): JSONRPCMessage {
  const empty = { jsonrpc: '2.0' as const, method: 'notifications/message', params: { data: '' } };
  const overhead = Buffer.byteLength(JSON.stringify(empty));
  return { ...empty, params: { data: tag.repeat(bytes - overhead) } };
}

async function replayed(store: BoundedEventStore, after: string): Promise<string[]> {
  const ids: string[] = [];
  await store.replayEventsAfter(after, {
    send: async (eventId) => {
      ids.push(eventId);
    },
  });
  return ids;
}

describe('BoundedEventStore', () => {
  it("names a call stream's requests in its event ids, so another instance's store can fail those calls", async () => {
    const here = new BoundedEventStore({ requestIdsOf: (stream) => (stream === 'call' ? [7, 'b'] : []) });
    const elsewhere = new BoundedEventStore();
    const priming = await here.storeEvent('call', {} as JSONRPCMessage);
    const notice = await here.storeEvent('call', messageOf(100));
    expect(elsewhere.callsOfOtherStream(priming)).toEqual([7, 'b']);
    expect(elsewhere.callsOfOtherStream(notice)).toEqual([7, 'b']);
    // Its own streams, and any session GET stream, are not another instance's calls.
    expect(here.callsOfOtherStream(priming)).toBeUndefined();
    const standalone = await here.storeEvent('_GET_stream', messageOf(100));
    expect(elsewhere.callsOfOtherStream(standalone)).toBeUndefined();
    // A stream whose requests are not known (none running, or a store without the lookup): none named.
    const unnamed = await elsewhere.storeEvent('quiet', messageOf(100));
    expect(here.callsOfOtherStream(unnamed)).toEqual([]);
    // A client's made-up id cannot make it say more than ids.
    expect(here.callsOfOtherStream('call|ffffffffffff-1~not-json')).toEqual([]);
    expect(here.callsOfOtherStream('no-separator')).toBeUndefined();
    // Replaying its own events still works with the ids in them.
    expect(await replayed(here, priming)).toEqual([notice]);
  });

  it('keeps no priming event, yet replays a stream from one', async () => {
    const store = new BoundedEventStore();
    const priming = await store.storeEvent('stream', {} as JSONRPCMessage);
    expect(store.size).toBe(0);
    expect(await store.getStreamIdForEventId(priming)).toBe('stream');
    const notice = await store.storeEvent('stream', messageOf(100));
    expect(store.size).toBe(1);
    expect(await replayed(store, priming)).toEqual([notice]);
  });

  it('drops the answer to initialize once released, and gives its bytes back to the budget', async () => {
    const budget = new EventStoreBudget({ maxTotalBytes: 10_000 });
    const store = new BoundedEventStore({ budget });
    const answer: JSONRPCMessage = {
      jsonrpc: '2.0',
      id: 0,
      result: { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 's', version: '1' } },
    };
    const priming = await store.storeEvent('init', {} as JSONRPCMessage);
    const initialized = await store.storeEvent('init', answer);
    const other = await store.storeEvent('call', messageOf(100));
    expect(await replayed(store, priming)).toEqual([initialized]);
    expect(budget.usedBytes).toBe(store.bytes);
    store.releaseInitialize();
    expect(await replayed(store, priming)).toEqual([]);
    expect(await replayed(store, 'call|0')).toEqual([other]);
    expect(store.size).toBe(1);
    expect(store.bytes).toBe(100);
    expect(budget.usedBytes).toBe(100);
    // Released once: a later call is kept as any other.
    store.releaseInitialize();
    expect(store.size).toBe(1);
  });

  it('keeps at most maxBytes of a session, dropping its oldest events first', async () => {
    const store = new BoundedEventStore({ maxBytes: 1_000 });
    const first = await store.storeEvent('stream', messageOf(400));
    const second = await store.storeEvent('stream', messageOf(400));
    expect(store.bytes).toBe(800);
    const third = await store.storeEvent('stream', messageOf(400));
    expect(store.size).toBe(2);
    expect(store.bytes).toBe(800);
    // Resuming from before the first replays what is left: the first is gone.
    expect(await replayed(store, 'stream|0')).toEqual([second, third]);
    expect(first).toMatch(/^stream\|[0-9a-f]{12}-1$/);
  });

  it('sends but does not keep a message larger than its bound', async () => {
    const store = new BoundedEventStore({ maxBytes: 1_000 });
    await store.storeEvent('stream', messageOf(500));
    const big = await store.storeEvent('stream', messageOf(1_001));
    expect(big).toMatch(/^stream\|[0-9a-f]{12}-2$/);
    expect(store.size).toBe(1);
    expect(store.bytes).toBe(500);
  });

  it('keeps at most maxEvents too', async () => {
    const store = new BoundedEventStore({ maxEvents: 3 });
    for (let i = 0; i < 10; i++) await store.storeEvent('stream', messageOf(100));
    expect(store.size).toBe(3);
    const sequences = (await replayed(store, 'stream|0')).map((id) => id.slice(id.lastIndexOf('-') + 1));
    expect(sequences).toEqual(['8', '9', '10']);
  });

  it('bounds all sessions together with a shared budget, the oldest event of any session going first', async () => {
    const budget = new EventStoreBudget({ maxTotalBytes: 2_000 });
    const a = new BoundedEventStore({ budget });
    const b = new BoundedEventStore({ budget });
    await a.storeEvent('s', messageOf(800, 'a'));
    await b.storeEvent('s', messageOf(800, 'b'));
    expect(budget.usedBytes).toBe(1_600);
    // Over the total: a's event is the oldest of all, so it goes, though a is not the one storing.
    await b.storeEvent('s', messageOf(800, 'b'));
    expect(budget.usedBytes).toBe(1_600);
    expect(a.size).toBe(0);
    expect(a.bytes).toBe(0);
    expect(b.size).toBe(2);
    // A session that ends gives its bytes back.
    b.clear();
    expect(budget.usedBytes).toBe(0);
    expect(b.size).toBe(0);
  });

  it('gives a dropped event back to the budget once only', async () => {
    const budget = new EventStoreBudget({ maxTotalBytes: 10_000 });
    const store = new BoundedEventStore({ budget, maxBytes: 1_000 });
    for (let i = 0; i < 20; i++) await store.storeEvent('s', messageOf(300));
    expect(store.bytes).toBe(900);
    expect(budget.usedBytes).toBe(900);
    store.clear();
    store.clear();
    expect(budget.usedBytes).toBe(0);
  });

  it('defaults to the limits of PROXY_DEFAULTS', async () => {
    const store = new BoundedEventStore();
    const chunk = 256 * 1024;
    const count = PROXY_DEFAULTS.eventStore.maxBytesPerSession / chunk + 4;
    for (let i = 0; i < count; i++) await store.storeEvent('s', messageOf(chunk));
    expect(store.bytes).toBe(PROXY_DEFAULTS.eventStore.maxBytesPerSession);
    expect(new EventStoreBudget().maxTotalBytes).toBe(PROXY_DEFAULTS.eventStore.maxTotalBytes);
  });
});
