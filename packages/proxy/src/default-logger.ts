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
