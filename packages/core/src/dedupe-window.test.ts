import { describe, expect, it } from 'vitest';
import { DedupeWindow, dedupeKey } from './dedupe-window.js';
import { ManualClock } from './testing/manual-clock.js';

describe('dedupeKey', () => {
  it('distinguishes sessions, and numeric from string ids', () => {
    const keys = new Set([
      dedupeKey('s1', 1),
      dedupeKey('s1', '1'),
      dedupeKey('s2', 1),
      dedupeKey('s1', 2),
      dedupeKey('s1', 'number:1'),
    ]);
    expect(keys.size).toBe(5);
    expect(dedupeKey('s1', 1)).toBe(dedupeKey('s1', 1));
  });
});

describe('DedupeWindow', () => {
  it('begin returns new for an unseen key, then in-flight while it runs', () => {
    const window = new DedupeWindow();
    expect(window.begin('k')).toBe('new');
    expect(window.begin('k')).toBe('in-flight');
    expect(window.begin('k')).toBe('in-flight');
    expect(window.size).toBe(1);
  });

  it('complete marks a key answered', () => {
    const window = new DedupeWindow();
    window.begin('k');
    window.complete('k');
    expect(window.begin('k')).toBe('answered');
  });

  it('complete of an unknown key does nothing', () => {
    const window = new DedupeWindow();
    window.complete('ghost');
    expect(window.size).toBe(0);
    expect(window.begin('ghost')).toBe('new');
  });

  it('release forgets a key so a redelivery runs again', () => {
    const window = new DedupeWindow();
    window.begin('k');
    window.release('k');
    expect(window.size).toBe(0);
    expect(window.begin('k')).toBe('new');
  });

  it('remembers an answered key until the TTL passes, then forgets it', () => {
    const time = new ManualClock(1_000);
    const window = new DedupeWindow({ ttlMs: 1_000, now: () => time.now() });
    window.begin('k');
    time.advance(5_000); // time spent in flight does not count
    window.complete('k');
    time.advance(999);
    expect(window.begin('k')).toBe('answered');
    time.advance(1);
    expect(window.begin('k')).toBe('new');
    expect(window.begin('k')).toBe('in-flight');
  });

  it('never expires a key that is still in flight', () => {
    const time = new ManualClock(1_000);
    const window = new DedupeWindow({ ttlMs: 10, now: () => time.now() });
    window.begin('k');
    time.advance(1_000_000);
    expect(window.begin('k')).toBe('in-flight');
  });

  it('keys are independent', () => {
    const window = new DedupeWindow();
    window.begin('a');
    window.complete('a');
    window.begin('b');
    expect(window.begin('a')).toBe('answered');
    expect(window.begin('b')).toBe('in-flight');
    expect(window.begin('c')).toBe('new');
    expect(window.size).toBe(3);
  });

  it('is bounded by maxEntries, forgetting the oldest first', () => {
    const window = new DedupeWindow({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c', 'd']) window.begin(key);
    expect(window.size).toBe(3);
    expect(window.begin('b')).toBe('in-flight');
    expect(window.begin('c')).toBe('in-flight');
    expect(window.begin('d')).toBe('in-flight');
    // 'a' was forgotten: it is new again (and that evicts the oldest remaining, 'b').
    expect(window.begin('a')).toBe('new');
    expect(window.size).toBe(3);
    expect(window.begin('b')).toBe('new');
  });

  it('complete refreshes a key to the newest position', () => {
    const window = new DedupeWindow({ maxEntries: 2 });
    window.begin('a');
    window.begin('b');
    window.complete('a'); // now 'b' is the oldest
    window.begin('c');
    expect(window.size).toBe(2);
    expect(window.begin('a')).toBe('answered');
    expect(window.begin('b')).toBe('new');
  });

  it('stays bounded under many keys', () => {
    const window = new DedupeWindow({ maxEntries: 100 });
    for (let i = 0; i < 10_000; i++) {
      window.begin(`k${i}`);
      if (i % 2 === 0) window.complete(`k${i}`);
    }
    expect(window.size).toBe(100);
  });
});
