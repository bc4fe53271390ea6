import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { SendTarget } from '../dispatch-contract.js';

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
  readonly sent: Sent[] = [];
  /** Every send tried, including those `gate` held or `fail` failed. */
  readonly attempts: Sent[] = [];
  gate: ((message: JSONRPCMessage) => Promise<void> | undefined) | undefined;
  fail: ((message: JSONRPCMessage, address: string) => Error | undefined) | undefined;
  readonly #waiters: Array<{ predicate: (sent: Sent) => boolean; resolve: (sent: Sent) => void }> = [];

  readonly send = async (message: JSONRPCMessage, target: SendTarget<string>): Promise<void> => {
    const entry = { message, target: { ...target } };
    this.attempts.push(entry);
    const gate = this.gate?.(message);
    if (gate) await gate;
    const error = this.fail?.(message, target.address);
    if (error) throw error;
    this.sent.push(entry);
    for (const waiter of [...this.#waiters]) {
      if (!waiter.predicate(entry)) continue;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(entry);
    }
  };

  /** The first sent message matching, now or later (bounded). */
  waitFor(predicate: (sent: Sent) => boolean, label: string): Promise<Sent> {
    const existing = this.sent.find(predicate);
    if (existing) return Promise.resolve(existing);
    return within(new Promise<Sent>((resolve) => this.#waiters.push({ predicate, resolve })), label);
  }
}
