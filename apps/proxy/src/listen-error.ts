import { describeError } from '@asyncmcp/core';
import { ListenError as ProxyListenError } from '@asyncmcp/proxy';

/** The HTTP port could not be bound; the message says which and what to do, in the CLI's terms. */
export class ListenError extends Error {
  constructor(config: { host: string; port: number }, cause: unknown) {
    const code = (cause as { code?: unknown }).code;
    const where = `${config.host}:${config.port}`;
    const message =
      code === 'EADDRINUSE'
        ? `cannot listen on ${where}: the port is in use; pass another --port (0 picks a free one)`
        : code === 'EACCES'
          ? `cannot listen on ${where}: permission denied; use a port above 1023`
          : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
            ? `cannot listen on ${where}: no such interface on this machine; check --host`
            : `cannot listen on ${where}: ${describeError(cause)}`;
    super(message, { cause });
    this.name = 'ListenError';
  }
}

/**
 * The gateway library's refusal to bind (`ListenError` of `@asyncmcp/proxy`) as the CLI tells it; any
 * other error as it is.
 */
export function asListenError(config: { host: string; port: number }, error: unknown): unknown {
  return ProxyListenError.isListenError(error) ? new ListenError(config, error.cause) : error;
}
