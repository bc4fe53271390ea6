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
});
