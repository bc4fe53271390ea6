import type { Json } from './run-context.js';
import { round } from './stats.js';

/** What the idle server and gateway were asked for, from their stats before and after the window. */
export interface IdleWindow {
  before: Json[];
  after: Json[];
  seconds: number;
  /** Epoch ms the window opened: receives started before it are not the idle processes'. */
  startedAt: number;
}

export function idleCost(idleWindow: IdleWindow) {
  const { before: idleBefore, after: idleAfter, seconds: idleSeconds, startedAt: idleStartedAt } = idleWindow;
  // Receives started in the window: their rate, and the shortest gap between two of them (a quiet
  // process long-polls back to back, so that gap is the long poll's 20 s).
  const receiveGaps = (stats: Json) => {
    const times = (stats.receiveTimes as number[]).filter((time) => time >= idleStartedAt);
    return times.slice(1).map((time, index) => (time - (times[index] as number)) / 1000);
  };
  const idleFigures = (stats: Json) => {
    const gaps = receiveGaps(stats);
    const mean = gaps.reduce((sum, gap) => sum + gap, 0) / Math.max(1, gaps.length);
    return {
      receivesPer20s: gaps.length > 0 ? round(20 / mean, 2) : null,
      shortestGapSeconds: gaps.length > 0 ? round(Math.min(...gaps), 2) : null,
    };
  };
  const totalCalls = (stats: Json) =>
    Object.values(stats.calls as Record<string, number>).reduce((a, b) => a + b, 0);
  const serverIdle = idleFigures(idleAfter[0] as Json);
  const gatewayIdle = idleFigures(idleAfter[1] as Json);
  const idle = {
    windowSeconds: round(idleSeconds, 1),
    serverReceivesPer20s: serverIdle.receivesPer20s,
    serverShortestGapSeconds: serverIdle.shortestGapSeconds,
    gatewayReceivesPer20s: gatewayIdle.receivesPer20s,
    gatewayShortestGapSeconds: gatewayIdle.shortestGapSeconds,
    gatewayApiCallsPerMinute: round(
      (totalCalls(idleAfter[1] as Json) - totalCalls(idleBefore[1] as Json)) * (60 / idleSeconds),
      2,
    ),
  };
  return idle;
}
