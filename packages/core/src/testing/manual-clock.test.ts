import { describe, expect, it } from 'vitest';
import { unrefTimer } from '../clock.js';
import { ManualClock } from './manual-clock.js';

describe('ManualClock', () => {
  it('runs nothing until advanced, then what fell due, in time order', () => {
    const clock = new ManualClock(1_000);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 100);
    clock.setTimeout(() => seen.push('late'), 500);
    expect(seen).toEqual([]);
    clock.advance(199);
    expect(seen).toEqual(['a@1100']);
    clock.advance(1);
    expect(seen).toEqual(['a@1100', 'b@1200']);
    expect(clock.now()).toBe(1_200);
    expect(clock.pendingCount).toBe(1);
  });

  it('runs callbacks scheduled by callbacks when they fall due within the same advance', () => {
    const clock = new ManualClock(0);
    const ticks: number[] = [];
    const tick = () => {
      ticks.push(clock.now());
      unrefTimer(clock, tick, 100);
    };
    unrefTimer(clock, tick, 100);
    clock.advance(350);
    expect(ticks).toEqual([100, 200, 300]);
    expect(clock.now()).toBe(350);
  });

  it('forgets a cleared timer', () => {
    const clock = new ManualClock(0);
    let fired = false;
    const timer = clock.setTimeout(() => {
      fired = true;
    }, 10);
    clock.clearTimeout(timer);
    clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.pendingCount).toBe(0);
  });
});
