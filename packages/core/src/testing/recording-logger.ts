import type { Logger } from '../logger.js';
import { Recorded } from './recorded.js';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that keeps every line, so a test can wait for the line that says a thing happened. */
export class RecordingLogger implements Logger {
  readonly #lines = new Recorded<LogEntry>();

  /** Every line logged so far, in order. */
  readonly entries: LogEntry[] = this.#lines.items;

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
    this.#lines.record(entry);
  }

  /** The first line (already logged or still to come) whose message contains `text`; bounded. */
  waitFor(text: string, timeoutMs = 15_000, after = 0): Promise<LogEntry> {
    return this.#lines.waitFor((entry) => entry.message.includes(text), {
      timeoutMs,
      what: `log line containing "${text}"`,
      after,
    });
  }
}
