import { describe, expect, it } from 'vitest';
import { TurnBatcher } from './turn-batcher.js';

/** A batcher whose sends are recorded; batch entries named in `refuse` are refused. */
function recordingBatcher({ refuse = [] as string[], failCalls = false } = {}) {
  const calls: Array<{ key: string; entries: string[] }> = [];
  const batcher = new TurnBatcher<string>({
    maxEntries: 3,
    maxBytes: 10,
    sendOne: async (key, entry) => {
      calls.push({ key, entries: [entry] });
      if (failCalls) throw new Error(`could not send ${entry}`);
    },
    sendBatch: async (key, entries) => {
      calls.push({ key, entries: [...entries] });
      if (failCalls) throw new Error('the batch call failed');
      return entries.map((entry) => (refuse.includes(entry) ? new Error(`refused ${entry}`) : undefined));
    },
  });
  return { batcher, calls };
}

describe('TurnBatcher', () => {
  it('sends what one turn gathered in batches by key, count and size, and a lone entry alone', async () => {
    const { batcher, calls } = recordingBatcher();
    await Promise.all([
      ...['a', 'b', 'c', 'd'].map((entry) => batcher.add('q1', entry, 1)),
      batcher.add('q1', 'big', 10),
      batcher.add('q2', 'alone', 1),
    ]);
    expect(calls).toEqual([
      { key: 'q1', entries: ['a', 'b', 'c'] },
      { key: 'q1', entries: ['d'] },
      { key: 'q1', entries: ['big'] },
      { key: 'q2', entries: ['alone'] },
    ]);
    await batcher.add('q1', 'next turn', 1);
    expect(calls.at(-1)).toEqual({ key: 'q1', entries: ['next turn'] });
  });

  it('settles each entry with its own outcome, and every entry of a failed call with its error', async () => {
    const { batcher } = recordingBatcher({ refuse: ['b'] });
    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((entry) => batcher.add('q', entry, 1)));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('refused b'));

    const failing = recordingBatcher({ failCalls: true }).batcher;
    const failed = await Promise.allSettled([failing.add('q', 'x', 1), failing.add('q', 'y', 1)]);
    expect(failed.map((outcome) => (outcome as PromiseRejectedResult).reason)).toEqual([
      new Error('the batch call failed'),
      new Error('the batch call failed'),
    ]);
    await expect(failing.add('q', 'z', 1)).rejects.toThrow('could not send z');
  });

  describe('while a call to the destination is out', () => {
    /** A batcher whose calls stay out until the test lets each return, and that says when each is made. */
    function heldBatcher(maxWaitMs: number) {
      const calls: Array<{ entries: string[]; release: () => void }> = [];
      let announce: (() => void) | undefined;
      const nextCall = () =>
        new Promise<void>((resolve) => {
          announce = resolve;
        });
      const record = (entries: string[]) =>
        new Promise<void>((release) => {
          calls.push({ entries, release });
          announce?.();
        });
      const batcher = new TurnBatcher<string>({
        maxEntries: 3,
        maxBytes: 100,
        maxWaitMs,
        sendOne: (_key, entry) => record([entry]),
        sendBatch: async (_key, entries) => {
          await record([...entries]);
          return entries.map(() => undefined);
        },
      });
      return { batcher, calls, nextCall };
    }

    it('gathers what is sent meanwhile and sends it in one call once the call out returns', async () => {
      const { batcher, calls, nextCall } = heldBatcher(60_000);
      let made = nextCall();
      const first = batcher.add('q', 'a', 1);
      await made;
      // Three turns while the first call is out: they wait for it instead of each going alone.
      const second = batcher.add('q', 'b', 1);
      await new Promise((resolve) => setImmediate(resolve));
      const third = batcher.add('q', 'c', 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(calls.map((call) => call.entries)).toEqual([['a']]);
      made = nextCall();
      calls[0]?.release();
      await made;
      expect(calls.map((call) => call.entries)).toEqual([['a'], ['b', 'c']]);
      calls[1]?.release();
      await Promise.all([first, second, third]);
    });

    it('sends a full batch at once without waiting', async () => {
      const { batcher, calls, nextCall } = heldBatcher(60_000);
      let made = nextCall();
      const first = batcher.add('q', 'a', 1);
      await made;
      made = nextCall();
      const rest = ['b', 'c', 'd'].map((entry) => batcher.add('q', entry, 1));
      await made;
      expect(calls.map((call) => call.entries)).toEqual([['a'], ['b', 'c', 'd']]);
      for (const call of calls) call.release();
      await Promise.all([first, ...rest]);
    });

    it('waits no longer than maxWaitMs for a call that does not return', async () => {
      const { batcher, calls, nextCall } = heldBatcher(5);
      let made = nextCall();
      void batcher.add('q', 'hung', 1);
      await made;
      made = nextCall();
      const next = batcher.add('q', 'next', 1);
      // The first call never returns; the next goes once the wait runs out.
      await made;
      expect(calls.map((call) => call.entries)).toEqual([['hung'], ['next']]);
      calls[1]?.release();
      await next;
    });
  });
});
