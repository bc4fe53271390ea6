import type { Logger } from '../logger.js';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that keeps every line, so a test can wait for the line that says a thing happened. */
export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];
  readonly #waiters = new Set<{ match: (entry: LogEntry) => boolean; resolve: (entry: LogEntry) => void }>();

  debug(fields: Record<string, unknown>, message = ''): void {
    this.#record({ level: 'debug', fields, message });
  }
  info(fields: Record<string, unknown>, message = ''): void {
    this.#record({ level: 'info', fields, message });
  }
  warn(fields: Record<string, unknown>, message = ''): void {
    this.#record({ level: 'warn', fields, message });
  }
  error(fields: Record<string, unknown>, message = ''): void {
    this.#record({ level: 'error', fields, message });
  }

  #record(entry: LogEntry): void {
    this.entries.push(entry);
    for (const waiter of this.#waiters) {
      if (waiter.match(entry)) {
        this.#waiters.delete(waiter);
        waiter.resolve(entry);
      }
    }
  }

  /** The first line (already logged or still to come) whose message contains `text`; bounded. */
  waitFor(text: string, timeoutMs = 15_000, after = 0): Promise<LogEntry> {
    const match = (entry: LogEntry) => entry.message.includes(text);
    const seen = this.entries.slice(after).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (entry: LogEntry) => {
          clearTimeout(timer);
          resolve(entry);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no log line containing "${text}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }
}
