/** A pending callback from a `Clock`, to cancel with the same clock's `clearTimeout`. */
export interface ClockTimer {
  /** Lets the process exit while the timer is pending (the system clock's timers support it). */
  unref?(): unknown;
}

/**
 * Where a component reads the time and schedules its timeouts. The system clock is the default; a test
 * passes a clock it moves itself (`ManualClock` in `@asyncmcp/core/testing`), so that a timeout fires
 * when the test says so and not when a loaded machine happens to get there.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

/** Real time: `Date.now` and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

/** A timer that does not keep the process alive. */
export function unrefTimer(clock: Clock, callback: () => void, ms: number): ClockTimer {
  const timer = clock.setTimeout(callback, ms);
  timer.unref?.();
  return timer;
}
