import type { Clock, ClockTimer } from '../clock.js';

interface Scheduled extends ClockTimer {
  readonly dueAt: number;
  readonly order: number;
  readonly callback: () => void;
}

/**
 * A clock that stands still until the test moves it: `advance(ms)` runs, in time order, every callback
 * that falls due on the way (including ones scheduled by those callbacks). Timeouts in the code under
 * test then depend on what the test does, never on how fast the machine is.
 */
export class ManualClock implements Clock {
  #now: number;
  #order = 0;
  #pending: Scheduled[] = [];

  constructor(start = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): ClockTimer {
    const timer: Scheduled = { dueAt: this.#now + Math.max(0, ms), order: this.#order++, callback };
    this.#pending.push(timer);
    return timer;
  }

  clearTimeout(timer: ClockTimer): void {
    this.#pending = this.#pending.filter((pending) => pending !== timer);
  }

  /** Callbacks waiting to fall due. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Moves the time forward by `ms`, running every callback due by then, earliest first. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError(`a clock cannot go back (advance(${ms}))`);
    const target = this.#now + ms;
    for (;;) {
      const next = this.#earliestDueBy(target);
      if (next === undefined) break;
      this.#pending = this.#pending.filter((pending) => pending !== next);
      this.#now = Math.max(this.#now, next.dueAt);
      next.callback();
    }
    // A callback may have advanced the clock past `target` itself: time never runs backwards.
    this.#now = Math.max(this.#now, target);
  }

  #earliestDueBy(target: number): Scheduled | undefined {
    let earliest: Scheduled | undefined;
    for (const timer of this.#pending) {
      if (timer.dueAt > target) continue;
      if (
        !earliest ||
        timer.dueAt < earliest.dueAt ||
        (timer.dueAt === earliest.dueAt && timer.order < earliest.order)
      )
        earliest = timer;
    }
    return earliest;
  }
}
