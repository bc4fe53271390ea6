/**
 * Errors raised inside a process (configuration mistakes, a closed transport, an oversize message …).
 * They are never sent to a peer as they are: what crosses the wire is a JSON-RPC error built by
 * `jsonrpc-errors.ts`. Keeping the two apart is deliberate — a local error may carry a cause and a
 * stack that must not leak to a remote client.
 */

const MARKER = Symbol.for('asyncmcp.error');

/** Stable codes for every error family; match on these, never on messages. */
export const AsyncMcpErrorCode = {
  Configuration: 'ASYNCMCP_CONFIGURATION',
  TransportClosed: 'ASYNCMCP_TRANSPORT_CLOSED',
  TransportNotStarted: 'ASYNCMCP_TRANSPORT_NOT_STARTED',
  MessageTooLarge: 'ASYNCMCP_MESSAGE_TOO_LARGE',
  InvalidMessage: 'ASYNCMCP_INVALID_MESSAGE',
  SessionNotFound: 'ASYNCMCP_SESSION_NOT_FOUND',
  SessionLimit: 'ASYNCMCP_SESSION_LIMIT',
  SessionLost: 'ASYNCMCP_SESSION_LOST',
  Delivery: 'ASYNCMCP_DELIVERY_FAILED',
  Timeout: 'ASYNCMCP_TIMEOUT',
  DestinationRefused: 'ASYNCMCP_DESTINATION_REFUSED',
  Listen: 'ASYNCMCP_LISTEN',
} as const;
export type AsyncMcpErrorCode = (typeof AsyncMcpErrorCode)[keyof typeof AsyncMcpErrorCode];

export interface AsyncMcpErrorOptions {
  message: string;
  code: AsyncMcpErrorCode;
  cause?: unknown;
  /** Whether repeating the same operation may succeed. */
  isRetryable?: boolean;
}

/**
 * Base of every error asyncmcp throws. `AsyncMcpError.isInstance(e)` works across duplicate installs of
 * the package (it checks a `Symbol.for` marker, not the prototype chain).
 */
export class AsyncMcpError extends Error {
  readonly code: AsyncMcpErrorCode;
  readonly isRetryable: boolean;

  constructor({ message, code, cause, isRetryable = false }: AsyncMcpErrorOptions) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AsyncMcpError';
    this.code = code;
    this.isRetryable = isRetryable;
    Object.defineProperty(this, MARKER, { value: true });
  }

  static isInstance(error: unknown): error is AsyncMcpError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** A user-supplied option is invalid; raised at construction time, before anything is sent. */
export class ConfigurationError extends AsyncMcpError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super({ message, code: AsyncMcpErrorCode.Configuration, cause: options.cause });
    this.name = 'ConfigurationError';
  }
}

/** `send()` on a transport that is closed, or was never started. */
export class TransportStateError extends AsyncMcpError {
  constructor(state: 'closed' | 'not-started', what = 'transport') {
    super({
      message:
        state === 'closed' ? `The ${what} is closed` : `The ${what} has not been started; call start() first`,
      code: state === 'closed' ? AsyncMcpErrorCode.TransportClosed : AsyncMcpErrorCode.TransportNotStarted,
    });
    this.name = 'TransportStateError';
  }
}

/** An encoded message is larger than the channel accepts. */
export class MessageTooLargeError extends AsyncMcpError {
  readonly size: number;
  readonly limit: number;
  constructor({ size, limit, channel }: { size: number; limit: number; channel: string }) {
    super({
      message: `Message of ${size} bytes exceeds the ${channel} limit of ${limit} bytes`,
      code: AsyncMcpErrorCode.MessageTooLarge,
    });
    this.name = 'MessageTooLargeError';
    this.size = size;
    this.limit = limit;
  }
}

/** No more sessions may be opened, or a session id names no live session. */
export class SessionError extends AsyncMcpError {
  readonly sessionId: string | undefined;
  constructor({
    message,
    code,
    sessionId,
  }: {
    message: string;
    code: typeof AsyncMcpErrorCode.SessionNotFound | typeof AsyncMcpErrorCode.SessionLimit;
    sessionId?: string;
  }) {
    super({ message, code, isRetryable: code === AsyncMcpErrorCode.SessionLimit });
    this.name = 'SessionError';
    this.sessionId = sessionId;
  }
}

/**
 * The server side of a session is gone: its worker stopped, crashed or no longer holds it. Nothing sent
 * on the session will be answered; start a new session.
 */
export class SessionLostError extends AsyncMcpError {
  readonly sessionId: string | undefined;
  constructor({ sessionId, reason }: { sessionId?: string | undefined; reason: string }) {
    super({
      message: `Session ${sessionId ?? '(none)'} lost: ${reason}`,
      code: AsyncMcpErrorCode.SessionLost,
    });
    this.name = 'SessionLostError';
    this.sessionId = sessionId;
  }
}

/** Sending to, or receiving from, the underlying channel failed. */
export class DeliveryError extends AsyncMcpError {
  /**
   * The destination does not exist (a deleted queue or topic): nothing sent there will arrive until
   * someone makes it again, so a session whose client listened there has lost its client.
   */
  readonly destinationGone: boolean;
  constructor({
    message,
    cause,
    isRetryable = true,
    destinationGone = false,
  }: { message: string; cause?: unknown; isRetryable?: boolean; destinationGone?: boolean }) {
    super({ message, code: AsyncMcpErrorCode.Delivery, cause, isRetryable });
    this.name = 'DeliveryError';
    this.destinationGone = destinationGone;
  }
}

/** Whether `error` says its destination does not exist (see `DeliveryError.destinationGone`). */
export function isDestinationGone(error: unknown): boolean {
  return error instanceof DeliveryError && error.destinationGone;
}

/** An operation did not complete within its deadline. */
export class TimeoutError extends AsyncMcpError {
  constructor(message: string) {
    super({ message, code: AsyncMcpErrorCode.Timeout, isRetryable: true });
    this.name = 'TimeoutError';
  }
}

/**
 * A message named a response destination the receiver will not send to: not on its configured endpoint,
 * account or region, and not on its allow-list. Nothing is sent there; the message is set aside.
 */
export class DestinationRefusedError extends AsyncMcpError {
  /** The destination, without credentials or query, as it may be logged. */
  readonly destination: string;
  constructor({ destination, reason }: { destination: string; reason: string }) {
    super({
      message: `Response destination ${destination} refused: ${reason}`,
      code: AsyncMcpErrorCode.DestinationRefused,
    });
    this.name = 'DestinationRefusedError';
    this.destination = destination;
  }
}

/** Describes any thrown value in one line, for logs and `Internal error: …` details. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** Normalises any thrown value into an `Error`, for `onerror` callbacks. */
export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(describeError(error));
}
