import type { JSONRPCMessage } from '@asyncmcp/core';
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { PROXY_DEFAULTS } from './proxy-defaults.js';

/**
 * A byte budget shared by the event stores of many sessions: when their events together pass
 * `maxTotalBytes`, the oldest events of any session are dropped first. One per gateway, so many sessions
 * with modest streams cannot together hold more memory than the operator allowed.
 */
export class EventStoreBudget {
  readonly maxTotalBytes: number;
  readonly #entries = new Map<string, { bytes: number; evict: () => void }>();
  #usedBytes = 0;

  constructor({ maxTotalBytes = PROXY_DEFAULTS.eventStore.maxTotalBytes }: { maxTotalBytes?: number } = {}) {
    this.maxTotalBytes = maxTotalBytes;
  }

  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Counts an event against the budget, dropping the oldest events (of any store) until all fit. */
  charge(key: string, bytes: number, evict: () => void): void {
    this.#entries.set(key, { bytes, evict });
    this.#usedBytes += bytes;
    while (this.#usedBytes > this.maxTotalBytes) {
      const oldest = this.#entries.entries().next().value;
      if (oldest === undefined) break;
      this.release(oldest[0]);
      oldest[1].evict();
    }
  }

  /** Gives back what an event held; nothing when it was not counted (or already dropped). */
  release(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#usedBytes -= entry.bytes;
  }
}

export interface BoundedEventStoreOptions {
  /** Most events kept for the session. @default PROXY_DEFAULTS.eventStore.maxEvents (1000) */
  maxEvents?: number;
  /** Most bytes (of JSON) kept for the session. @default PROXY_DEFAULTS.eventStore.maxBytesPerSession (4 MiB) */
  maxBytes?: number;
  /** A budget shared with other sessions' stores, bounding them all together. @default none */
  budget?: EventStoreBudget;
}

interface StoredEvent {
  streamId: string;
  message: JSONRPCMessage;
  bytes: number;
}

let instances = 0;

/**
 * A per-session event store for Streamable HTTP resumption (`Last-Event-ID`): keeps the last messages
 * of each stream in memory, so a client that lost its connection mid-call gets what it missed. Bounded
 * in events and in bytes, per session and (with a shared `budget`) for all sessions together, oldest
 * dropped first: a long or chatty session cannot grow without limit. A message larger than a bound is
 * sent but not kept, so it cannot be replayed.
 */
export class BoundedEventStore implements EventStore {
  readonly #events = new Map<string, StoredEvent>();
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #budget: EventStoreBudget | undefined;
  /** Tells this store's events apart from other stores' in the shared budget. */
  readonly #instance = ++instances;
  #bytes = 0;
  #counter = 0;

  constructor(options: BoundedEventStoreOptions = {}) {
    this.#maxEvents = options.maxEvents ?? PROXY_DEFAULTS.eventStore.maxEvents;
    this.#maxBytes = options.maxBytes ?? PROXY_DEFAULTS.eventStore.maxBytesPerSession;
    this.#budget = options.budget;
  }

  /** Events kept. */
  get size(): number {
    return this.#events.size;
  }

  /** Bytes of JSON kept. */
  get bytes(): number {
    return this.#bytes;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    // Stream ids are UUIDs or '_GET_stream', so the separator cannot appear inside one.
    const eventId = `${streamId}|${++this.#counter}`;
    const bytes = Buffer.byteLength(JSON.stringify(message));
    if (bytes > this.#maxBytes || (this.#budget !== undefined && bytes > this.#budget.maxTotalBytes)) {
      return eventId;
    }
    this.#events.set(eventId, { streamId, message, bytes });
    this.#bytes += bytes;
    this.#budget?.charge(this.#budgetKey(eventId), bytes, () => this.#forget(eventId));
    while (this.#events.size > this.#maxEvents || this.#bytes > this.#maxBytes) {
      const oldest = this.#events.keys().next().value;
      if (oldest === undefined) break;
      this.#forget(oldest);
      this.#budget?.release(this.#budgetKey(oldest));
    }
    return eventId;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.#events.get(eventId)?.streamId ?? streamOf(eventId);
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const streamId = this.#events.get(lastEventId)?.streamId ?? streamOf(lastEventId);
    if (streamId === undefined) return '';
    const after = sequenceOf(lastEventId);
    for (const [eventId, event] of this.#events) {
      if (event.streamId === streamId && sequenceOf(eventId) > after) await send(eventId, event.message);
    }
    return streamId;
  }

  /** Drops every event and gives their bytes back to the shared budget: the session ended. */
  clear(): void {
    for (const eventId of this.#events.keys()) this.#budget?.release(this.#budgetKey(eventId));
    this.#events.clear();
    this.#bytes = 0;
  }

  #forget(eventId: string): void {
    const event = this.#events.get(eventId);
    if (event === undefined) return;
    this.#events.delete(eventId);
    this.#bytes -= event.bytes;
  }

  #budgetKey(eventId: string): string {
    return `${this.#instance}:${eventId}`;
  }
}

function streamOf(eventId: string): string | undefined {
  const separator = eventId.lastIndexOf('|');
  return separator > 0 ? eventId.slice(0, separator) : undefined;
}

function sequenceOf(eventId: string): number {
  return Number(eventId.slice(eventId.lastIndexOf('|') + 1)) || 0;
}
