import { AsyncMcpError, AsyncMcpErrorCode, describeError } from '@asyncmcp/core';

/** The gateway's HTTP server could not bind its address; `cause` is the system's error. */
export class ListenError extends AsyncMcpError {
  readonly host: string;
  readonly port: number;

  constructor(options: { host: string; port: number; cause: unknown }) {
    super({
      message: `cannot listen on ${options.host}:${options.port}: ${reasonOf(options.cause)}`,
      code: AsyncMcpErrorCode.Listen,
      cause: options.cause,
    });
    this.name = 'ListenError';
    this.host = options.host;
    this.port = options.port;
  }

  /** Whether `error` is a `ListenError`, across duplicate installs of the package. */
  static isListenError(error: unknown): error is ListenError {
    return AsyncMcpError.isInstance(error) && error.code === AsyncMcpErrorCode.Listen;
  }
}

function reasonOf(cause: unknown): string {
  switch ((cause as { code?: unknown } | undefined)?.code) {
    case 'EADDRINUSE':
      return 'the port is in use';
    case 'EACCES':
      return 'permission denied';
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return 'no such interface on this machine';
    default:
      return describeError(cause);
  }
}
