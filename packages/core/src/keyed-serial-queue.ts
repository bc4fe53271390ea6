/**
 * Runs tasks one after another per key and concurrently across keys: a session's messages are handed
 * over in the order they arrived while other sessions' messages do not wait behind them.
 */
export class KeyedSerialQueue {
  readonly #tails = new Map<string, Promise<void>>();

  get activeKeys(): number {
    return this.#tails.size;
  }

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
