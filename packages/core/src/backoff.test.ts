import { afterEach, describe, expect, it, vi } from 'vitest';
import { Backoff, backoffDelay, delay } from './backoff.js';

const zero = (): number => 0;
const almostOne = (): number => 0.999;

describe('backoffDelay', () => {
  it('is 0 when random gives 0', () => {
    for (const attempt of [0, 1, 5, 40]) expect(backoffDelay(attempt, { random: zero })).toBe(0);
  });

  it('stays below base·2^attempt with the default base of 100', () => {
    expect(backoffDelay(0, { random: almostOne })).toBe(99);
    expect(backoffDelay(1, { random: almostOne })).toBe(199);
    expect(backoffDelay(2, { random: almostOne })).toBe(399);
    expect(backoffDelay(3, { random: almostOne })).toBe(799);
  });

  it('is capped at maxMs (default 20000)', () => {
    expect(backoffDelay(8, { random: almostOne })).toBe(19_980);
    expect(backoffDelay(30, { random: almostOne })).toBe(19_980);
    expect(backoffDelay(1_000, { random: almostOne })).toBe(19_980);
    expect(backoffDelay(10, { random: almostOne, baseMs: 50, maxMs: 1_000 })).toBe(999);
  });

  it('honours a custom base', () => {
    expect(backoffDelay(0, { random: almostOne, baseMs: 1_000 })).toBe(999);
    expect(backoffDelay(2, { random: almostOne, baseMs: 10 })).toBe(39);
  });

  it('always returns an integer in [0, ceiling)', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      for (const r of [0, 0.25, 0.5, 0.999999]) {
        const value = backoffDelay(attempt, { random: () => r, baseMs: 100, maxMs: 5_000 });
        expect(Number.isInteger(value)).toBe(true);
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThan(Math.min(5_000, 100 * 2 ** attempt));
      }
    }
  });

  it('uses Math.random by default and stays in bounds', () => {
    for (let i = 0; i < 100; i++) {
      const value = backoffDelay(3);
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(800);
    }
  });
});

describe('Backoff', () => {
  it('counts attempts and grows the ceiling', () => {
    const backoff = new Backoff({ random: almostOne, baseMs: 10, maxMs: 1_000 });
    expect(backoff.attempt).toBe(0);
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([9, 19, 39, 79]);
    expect(backoff.attempt).toBe(4);
  });

  it('reaches the cap and stays there', () => {
    const backoff = new Backoff({ random: almostOne, baseMs: 10, maxMs: 100 });
    const delays = Array.from({ length: 10 }, () => backoff.next());
    expect(delays.slice(-3)).toEqual([99, 99, 99]);
  });

  it('reset starts over from the first delay', () => {
    const backoff = new Backoff({ random: almostOne, baseMs: 10 });
    backoff.next();
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(9);
    expect(backoff.attempt).toBe(1);
  });
});

describe('delay', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves immediately for 0 or a negative delay', async () => {
    vi.useFakeTimers();
    let done = false;
    void delay(0).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);
    await expect(delay(-5)).resolves.toBeUndefined();
  });

  it('resolves after the delay', async () => {
    vi.useFakeTimers();
    let done = false;
    const waiting = delay(1_000).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(done).toBe(true);
  });

  it('resolves early, without throwing, when the signal aborts', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    let done = false;
    const waiting = delay(60_000, controller.signal).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(done).toBe(false);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);
    await expect(waiting).resolves.toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves at once for an already-aborted signal and starts no timer', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    controller.abort();
    let done = false;
    void delay(60_000, controller.signal).then(() => {
      done = true;
    });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);
  });

  it('resolves early on abort with real timers too', async () => {
    const controller = new AbortController();
    const waiting = delay(3_600_000, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
  });

  it('removes its abort listener once the delay elapses', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const removed = vi.spyOn(controller.signal, 'removeEventListener');
    const waiting = delay(100, controller.signal);
    await vi.advanceTimersByTimeAsync(100);
    await waiting;
    expect(removed).toHaveBeenCalledWith('abort', expect.any(Function));
  });
});
