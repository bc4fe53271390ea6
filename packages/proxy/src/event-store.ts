import type { JSONRPCMessage } from '@asyncmcp/core';
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

/**
 * A per-session event store for Streamable HTTP resumption (`Last-Event-ID`): keeps the last
 * `maxEvents` messages of each stream in memory, so a client that lost its connection mid-call gets
 * what it missed. Bounded, so a long session cannot grow without limit.
 */
export class BoundedEventStore implements EventStore {
  readonly #events = new Map<string, { streamId: string; message: JSONRPCMessage }>();
  readonly #maxEvents: number;
  #counter = 0;

  constructor({ maxEvents = 1_000 }: { maxEvents?: number } = {}) {
    this.#maxEvents = maxEvents;
  }

  get size(): number {
    return this.#events.size;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    // Stream ids are UUIDs or '_GET_stream', so the separator cannot appear inside one.
    const eventId = `${streamId}|${++this.#counter}`;
    this.#events.set(eventId, { streamId, message });
    while (this.#events.size > this.#maxEvents) {
      const oldest = this.#events.keys().next().value;
      if (oldest === undefined) break;
      this.#events.delete(oldest);
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
}

function streamOf(eventId: string): string | undefined {
  const separator = eventId.lastIndexOf('|');
  return separator > 0 ? eventId.slice(0, separator) : undefined;
}

function sequenceOf(eventId: string): number {
  return Number(eventId.slice(eventId.lastIndexOf('|') + 1)) || 0;
}
