import type { Logger } from '@asyncmcp/core';
import { pino } from 'pino';

/**
 * JSON lines through pino. In stdio mode stdout carries the protocol, so logs must go to stderr.
 */
export function createDefaultLogger({
  level = 'info',
  destination = 'stdout',
}: {
  level?: string;
  destination?: 'stdout' | 'stderr';
} = {}): Logger & {
  child(bindings: Record<string, unknown>): Logger;
} {
  return pino(
    { level, base: { service: 'asyncmcp-proxy' } },
    pino.destination(destination === 'stderr' ? 2 : 1),
  );
}

/** A child logger carrying `bindings` on every line, when the logger can make one. */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  const withChild = logger as Logger & { child?: (bindings: Record<string, unknown>) => Logger };
  return typeof withChild.child === 'function' ? withChild.child(bindings) : logger;
}
