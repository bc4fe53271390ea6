import type { DispatcherStats } from './dispatch-contract.js';

/** What a dispatcher counts of the messages it routes; its session lifecycle counts the sessions. */
export type DispatchCounts = Omit<DispatcherStats, 'sessionsOpened' | 'sessionsClosed'>;

export function emptyDispatchCounts(): DispatchCounts {
  return { accepted: 0, rejected: 0, duplicates: 0, clientsGone: 0 };
}
