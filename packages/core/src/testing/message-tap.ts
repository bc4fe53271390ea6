import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { Recorded } from './recorded.js';

/**
 * Wraps a transport so a test sees every message it receives before the SDK does, and can wait for one
 * matching a predicate — with a bound, never a sleep.
 */
export class MessageTap implements Transport {
  readonly #received = new Recorded<JSONRPCMessage>();
  /** Every message received so far, in order. */
  readonly received: JSONRPCMessage[] = this.#received.items;
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  constructor(readonly inner: Transport) {}

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  async start(): Promise<void> {
    this.inner.onmessage = (message, extra) => {
      this.#received.record(message);
      this.onmessage?.(message, extra);
    };
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (error) => this.onerror?.(error);
    await this.inner.start();
  }

  send(...args: Parameters<Transport['send']>): Promise<void> {
    return this.inner.send(...args);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Resolves with the first received message (past or future) matching `match`; rejects after `timeoutMs`. */
  waitFor(match: (message: JSONRPCMessage) => boolean, timeoutMs = 10_000): Promise<JSONRPCMessage> {
    return this.#received.waitFor(match, { timeoutMs, what: 'matching message' });
  }
}

/** Resolves when `count` calls of the returned `signal` have happened; rejects after `timeoutMs`. */
export function countdown(count: number, timeoutMs = 10_000): { signal: () => void; done: Promise<void> } {
  let remaining = count;
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(
    () => reject(new Error(`countdown: ${remaining} of ${count} left after ${timeoutMs} ms`)),
    timeoutMs,
  );
  return {
    signal: () => {
      remaining--;
      if (remaining <= 0) {
        clearTimeout(timer);
        resolve();
      }
    },
    done,
  };
}
