import { LOG_REDACTION, type Logger } from '@asyncmcp/core';
import { pino } from 'pino';

/**
 * JSON lines through pino. In stdio mode stdout carries the protocol, so logs must go to stderr. Secrets
 * and session ids are redacted by pino's `redact` (see `LOG_REDACTION`), whatever a log line carries.
 */
export function createDefaultLogger({
  level = 'info',
  destination = 'stdout',
}: {
  level?: string;
  /** Where the JSON lines go; a stream of your own (anything with `write`) takes them as strings. */
  destination?: 'stdout' | 'stderr' | { write(line: string): void };
} = {}): Logger & {
  child(bindings: Record<string, unknown>): Logger;
} {
  return pino(
    { level, base: { service: 'asyncmcp-proxy' }, redact: LOG_REDACTION },
    typeof destination === 'object' ? destination : pino.destination(destination === 'stderr' ? 2 : 1),
  );
}

/** A child logger carrying `bindings` on every line, when the logger can make one. */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  const withChild = logger as Logger & { child?: (bindings: Record<string, unknown>) => Logger };
  return typeof withChild.child === 'function' ? withChild.child(bindings) : logger;
}

/**
 * A logger that adds `sessionId` to the fields of every line, for one of the many sessions a gateway
 * holds: two references, not a child logger of its own (a pino child keeps its bindings, serialized, and
 * more). A logger that cannot make children gets no field added, as `childLogger` adds none.
 */
export function sessionLogger(logger: Logger, sessionId: string): Logger {
  const withChild = logger as Logger & { child?: unknown };
  return typeof withChild.child === 'function' ? new SessionLogger(logger, sessionId) : logger;
}

class SessionLogger implements Logger {
  readonly #parent: Logger;
  readonly #sessionId: string;

  constructor(parent: Logger, sessionId: string) {
    this.#parent = parent;
    this.#sessionId = sessionId;
  }

  debug(fields: Record<string, unknown>, message?: string): void {
    this.#parent.debug({ sessionId: this.#sessionId, ...fields }, message);
  }

  info(fields: Record<string, unknown>, message?: string): void {
    this.#parent.info({ sessionId: this.#sessionId, ...fields }, message);
  }

  warn(fields: Record<string, unknown>, message?: string): void {
    this.#parent.warn({ sessionId: this.#sessionId, ...fields }, message);
  }

  error(fields: Record<string, unknown>, message?: string): void {
    this.#parent.error({ sessionId: this.#sessionId, ...fields }, message);
  }
}
