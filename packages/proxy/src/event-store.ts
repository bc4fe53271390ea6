import { randomBytes } from 'node:crypto';
import { isInitializeResult, type JSONRPCMessage, type RequestId } from '@asyncmcp/core';
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

let instances = 0;

/**
 * A per-session event store for Streamable HTTP resumption (`Last-Event-ID`): keeps the last messages
 * of each stream in memory, so a client that lost its connection mid-call gets what it missed. Bounded
 * in events and in bytes, per session and (with a shared `budget`) for all sessions together, oldest
 * dropped first: a long or chatty session cannot grow without limit. A message larger than a bound is
 * sent but not kept, so it cannot be replayed.
 *
 * Kept compactly, since a gateway holds one per session: each event as its id and its JSON in one flat
 * list made on the first event, no object per event. A stream's priming event (no message) is not kept:
 * its id names the stream and its place, which is all a resumption from it needs. The answer to
 * `initialize` is dropped once the client says it is initialized (`releaseInitialize`): it has it.
 */
export class BoundedEventStore implements EventStore {
  /** Event id, JSON, event id, JSON …, oldest first; made on the first event kept. */
  #events: string[] | undefined;
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
  /** The stream that carried the answer to `initialize`, until it is released. */
  #initializeStream: string | undefined;

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
    return (this.#events?.length ?? 0) / 2;
  }

  /** Bytes of JSON kept. */
  get bytes(): number {
    return this.#bytes;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    // Stream ids are UUIDs or '_GET_stream', so the separator cannot appear inside one.
    const eventId = `${streamId}|${this.#nonce}-${++this.#counter}${this.#callsSuffix(streamId)}`;
    // A priming event carries no message: there is nothing to replay, and its id alone places it.
    if (isPriming(message)) return eventId;
    const json = JSON.stringify(message);
    const bytes = Buffer.byteLength(json);
    if (bytes > this.#maxBytes || (this.#budget !== undefined && bytes > this.#budget.maxTotalBytes)) {
      return eventId;
    }
    if (this.#initializeStream === undefined && isInitializeResult(message)) {
      this.#initializeStream = streamId;
    }
    this.#events ??= [];
    const events = this.#events;
    events.push(eventId, json);
    this.#bytes += bytes;
    this.#budget?.charge(this.#budgetKey(eventId), bytes, () => this.#forget(eventId));
    while (events.length / 2 > this.#maxEvents || this.#bytes > this.#maxBytes) {
      const oldest = events[0];
      if (oldest === undefined) break;
      this.#forget(oldest);
      this.#budget?.release(this.#budgetKey(oldest));
    }
    return eventId;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return streamOf(eventId);
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const streamId = streamOf(lastEventId);
    if (streamId === undefined) return '';
    const after = sequenceOf(lastEventId);
    // A copy: sending may let other events in (or out) meanwhile.
    const events = [...(this.#events ?? [])];
    for (let index = 0; index < events.length; index += 2) {
      const eventId = events[index] as string;
      if (streamOf(eventId) === streamId && sequenceOf(eventId) > after) {
        await send(eventId, JSON.parse(events[index + 1] as string) as JSONRPCMessage);
      }
    }
    return streamId;
  }

  /**
   * The client sent `notifications/initialized`, so it has the answer to its `initialize`: the events of
   * the stream that carried it are dropped rather than kept for a replay nobody will ask for.
   */
  releaseInitialize(): void {
    const stream = this.#initializeStream;
    if (stream === undefined || this.#events === undefined) return;
    this.#initializeStream = undefined;
    for (const eventId of this.#events.filter((_, index) => index % 2 === 0)) {
      if (streamOf(eventId) !== stream) continue;
      this.#forget(eventId);
      this.#budget?.release(this.#budgetKey(eventId));
    }
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
    const events = this.#events ?? [];
    for (let index = 0; index < events.length; index += 2) {
      this.#budget?.release(this.#budgetKey(events[index] as string));
    }
    this.#events = undefined;
    this.#bytes = 0;
    this.#initializeStream = undefined;
  }

  #forget(eventId: string): void {
    const events = this.#events;
    if (events === undefined) return;
    let index = 0;
    while (index < events.length && events[index] !== eventId) index += 2;
    if (index >= events.length) return;
    this.#bytes -= Buffer.byteLength(events[index + 1] as string);
    events.splice(index, 2);
    // An idle session keeps no list at all.
    if (events.length === 0) this.#events = undefined;
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

/** The SDK's priming event: an empty message. */
function isPriming(message: JSONRPCMessage): boolean {
  for (const _ in message) return false;
  return true;
}
