import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { SendTarget } from '../dispatch-contract.js';
import { Recorded } from './recorded.js';

/*
 * What the dispatchers' tests share (not published): a recording `send`, and bounded waits on it.
 */

export const WAIT_MS = 5_000;

/** Bounds every wait: rejects with a clear message instead of hanging the test. */
export function within<T>(promise: Promise<T>, label: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Lets every pending microtask and I/O callback run: used to show something has NOT happened. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Tracks whether a promise has settled yet, without waiting for it. */
export function track<T>(promise: Promise<T>): { done: () => boolean; value: () => T | undefined } {
  let done = false;
  let value: T | undefined;
  void promise.then((v) => {
    done = true;
    value = v;
  });
  return { done: () => done, value: () => value };
}

export interface Sent {
  message: JSONRPCMessage;
  target: SendTarget<string>;
}

/** A recording `send`. Hooks may hold a message (`gate`) or make its send throw (`fail`). */
export class RecordingSend {
  readonly #sent = new Recorded<Sent>();
  /** Every send tried, including those `gate` held or `fail` failed. */
  readonly attempts: Sent[] = [];
  gate: ((message: JSONRPCMessage) => Promise<void> | undefined) | undefined;
  fail: ((message: JSONRPCMessage, address: string) => Error | undefined) | undefined;

  readonly send = async (message: JSONRPCMessage, target: SendTarget<string>): Promise<void> => {
    const entry = { message, target: { ...target } };
    this.attempts.push(entry);
    const gate = this.gate?.(message);
    if (gate) await gate;
    const error = this.fail?.(message, target.address);
    if (error) throw error;
    this.#sent.record(entry);
  };

  /** Every message sent, in order. */
  get sent(): Sent[] {
    return this.#sent.items;
  }

  /** The first sent message matching, now or later (bounded). */
  waitFor(predicate: (sent: Sent) => boolean, label: string): Promise<Sent> {
    return this.#sent.waitFor(predicate, { timeoutMs: WAIT_MS, what: label });
  }
}
