import { randomBytes } from 'node:crypto';
import type { JSONRPCMessage, RequestId } from '@asyncmcp/core';
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
  /**
   * The JSON-RPC ids of the requests a stream answers, while they run. Written into its event ids, so
   * that another gateway instance the client resumes the stream on can fail those calls by their ids
   * (see `callsOfOtherStream`). @default none known
   */
  requestIdsOf?: (streamId: string) => readonly RequestId[];
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
  #requestIdsOf: ((streamId: string) => readonly RequestId[]) | undefined;
  /** Tells this store's events apart from other stores' in the shared budget. */
  readonly #instance = ++instances;
  /** In every event id of this store, so that one written by another store (another instance) shows. */
  readonly #nonce = randomBytes(6).toString('hex');
  #bytes = 0;
  #counter = 0;

  constructor(options: BoundedEventStoreOptions = {}) {
    this.#maxEvents = options.maxEvents ?? PROXY_DEFAULTS.eventStore.maxEvents;
    this.#maxBytes = options.maxBytes ?? PROXY_DEFAULTS.eventStore.maxBytesPerSession;
    this.#budget = options.budget;
    this.#requestIdsOf = options.requestIdsOf;
  }

  /** Supplies `requestIdsOf` after construction (the transport that knows them is made after the store). */
  setRequestIdsOf(lookup: (streamId: string) => readonly RequestId[]): void {
    this.#requestIdsOf ??= lookup;
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
    const eventId = `${streamId}|${this.#nonce}-${++this.#counter}${this.#callsSuffix(streamId)}`;
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

  /**
   * When `eventId` names a call's stream (a POST's, not the session's GET stream) that another store
   * wrote — another gateway instance carried the call, and nothing here can answer it — the JSON-RPC ids
   * of the requests it answered, as that store wrote them (possibly none); otherwise undefined.
   */
  callsOfOtherStream(eventId: string): RequestId[] | undefined {
    const stream = streamOf(eventId);
    if (stream === undefined || stream === STANDALONE_STREAM) return undefined;
    const rest = eventId.slice(eventId.lastIndexOf('|') + 1);
    if (rest.startsWith(`${this.#nonce}-`)) return undefined;
    const marker = rest.indexOf(CALLS_MARKER);
    if (marker < 0) return [];
    try {
      const ids: unknown = JSON.parse(Buffer.from(rest.slice(marker + 1), 'base64url').toString('utf8'));
      return Array.isArray(ids)
        ? ids.filter((id): id is RequestId => typeof id === 'string' || typeof id === 'number')
        : [];
    } catch {
      return [];
    }
  }

  /** `~` and the stream's request ids (JSON, base64url) when known and short; '' otherwise. */
  #callsSuffix(streamId: string): string {
    if (streamId === STANDALONE_STREAM || this.#requestIdsOf === undefined) return '';
    const ids = this.#requestIdsOf(streamId);
    if (ids.length === 0) return '';
    const encoded = Buffer.from(JSON.stringify(ids)).toString('base64url');
    return encoded.length <= MAX_CALLS_SUFFIX ? `${CALLS_MARKER}${encoded}` : '';
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
  const rest = eventId.slice(eventId.lastIndexOf('|') + 1);
  const marker = rest.indexOf(CALLS_MARKER);
  return Number((marker < 0 ? rest : rest.slice(0, marker)).slice(rest.indexOf('-') + 1)) || 0;
}

/** Between an event's sequence and its stream's request ids; base64url never has it. */
const CALLS_MARKER = '~';
/** Longer id lists are left out of event ids (calls with huge ids then wait for their timeout instead). */
const MAX_CALLS_SUFFIX = 512;

/** The SDK transport's stream id for the session's GET stream. */
const STANDALONE_STREAM = '_GET_stream';
