import type { Clock } from './clock.js';

/**
 * Waits until every promise has settled or `timeoutMs` has passed, whichever comes first: how a stopping
 * dispatcher gives running requests a last chance to be answered without waiting on them for ever.
 */
export async function settleWithin(
  running: readonly Promise<unknown>[],
  timeoutMs: number,
  clock: Clock,
): Promise<void> {
  if (running.length === 0 || timeoutMs <= 0) return;
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = clock.setTimeout(resolve, timeoutMs);
  });
  await Promise.race([Promise.allSettled(running), deadline]);
  if (timer) clock.clearTimeout(timer);
}
