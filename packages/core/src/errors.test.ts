import { describe, expect, it } from 'vitest';
import {
  AsyncMcpError,
  AsyncMcpErrorCode,
  ConfigurationError,
  DeliveryError,
  describeError,
  MessageTooLargeError,
  SessionError,
  TimeoutError,
  TransportStateError,
  toError,
} from './errors.js';

describe('AsyncMcpErrorCode', () => {
  it('has stable string codes', () => {
    // Written out in full, so renaming a code anywhere fails here first.
    const codes = Object.entries(AsyncMcpErrorCode).map(([family, code]) => `${family}=${code}`);
    expect(codes).toEqual([
      'Configuration=ASYNCMCP_CONFIGURATION',
      'TransportClosed=ASYNCMCP_TRANSPORT_CLOSED',
      'TransportNotStarted=ASYNCMCP_TRANSPORT_NOT_STARTED',
      'MessageTooLarge=ASYNCMCP_MESSAGE_TOO_LARGE',
      'InvalidMessage=ASYNCMCP_INVALID_MESSAGE',
      'SessionNotFound=ASYNCMCP_SESSION_NOT_FOUND',
      'SessionLimit=ASYNCMCP_SESSION_LIMIT',
      'SessionLost=ASYNCMCP_SESSION_LOST',
      'Delivery=ASYNCMCP_DELIVERY_FAILED',
      'Timeout=ASYNCMCP_TIMEOUT',
      'DestinationRefused=ASYNCMCP_DESTINATION_REFUSED',
      'Listen=ASYNCMCP_LISTEN',
    ]);
  });
});

describe('AsyncMcpError', () => {
  it('carries message, code, name and defaults to not retryable', () => {
    const error = new AsyncMcpError({ message: 'bad message', code: AsyncMcpErrorCode.InvalidMessage });
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('bad message');
    expect(error.code).toBe('ASYNCMCP_INVALID_MESSAGE');
    expect(error.name).toBe('AsyncMcpError');
    expect(error.isRetryable).toBe(false);
    expect(error.cause).toBeUndefined();
    expect('cause' in error).toBe(false);
  });

  it('keeps the cause', () => {
    const cause = new Error('socket hang up');
    const error = new AsyncMcpError({
      message: 'x',
      code: AsyncMcpErrorCode.Delivery,
      cause,
      isRetryable: true,
    });
    expect(error.cause).toBe(cause);
    expect(error.isRetryable).toBe(true);
  });

  it('keeps a non-Error cause', () => {
    const error = new AsyncMcpError({
      message: 'x',
      code: AsyncMcpErrorCode.Delivery,
      cause: { status: 503 },
    });
    expect(error.cause).toEqual({ status: 503 });
  });

  it('isInstance is true for the class and every subclass', () => {
    const errors: unknown[] = [
      new AsyncMcpError({ message: 'x', code: AsyncMcpErrorCode.Timeout }),
      new ConfigurationError('x'),
      new TransportStateError('closed'),
      new MessageTooLargeError({ size: 2, limit: 1, channel: 'SQS' }),
      new SessionError({ message: 'x', code: AsyncMcpErrorCode.SessionLimit }),
      new DeliveryError({ message: 'x' }),
      new TimeoutError('x'),
    ];
    for (const error of errors) expect(AsyncMcpError.isInstance(error)).toBe(true);
  });

  it('isInstance is true for an error made by a different copy of the class (Symbol.for marker)', () => {
    class OtherCopyError extends Error {
      readonly code = 'ASYNCMCP_TIMEOUT';
    }
    const foreign = new OtherCopyError('from another install');
    Object.defineProperty(foreign, Symbol.for('asyncmcp.error'), { value: true });
    expect(foreign instanceof AsyncMcpError).toBe(false);
    expect(AsyncMcpError.isInstance(foreign)).toBe(true);

    const plain = { [Symbol.for('asyncmcp.error')]: true, code: 'ASYNCMCP_TIMEOUT', message: 'm' };
    expect(AsyncMcpError.isInstance(plain)).toBe(true);
  });

  it('isInstance is false for plain errors and other values', () => {
    expect(AsyncMcpError.isInstance(new Error('x'))).toBe(false);
    expect(AsyncMcpError.isInstance(new TypeError('x'))).toBe(false);
    expect(AsyncMcpError.isInstance({ code: 'ASYNCMCP_TIMEOUT' })).toBe(false);
    expect(AsyncMcpError.isInstance({ [Symbol.for('asyncmcp.error')]: 'yes' })).toBe(false);
    expect(AsyncMcpError.isInstance({ [Symbol('asyncmcp.error')]: true })).toBe(false);
    expect(AsyncMcpError.isInstance(null)).toBe(false);
    expect(AsyncMcpError.isInstance(undefined)).toBe(false);
    expect(AsyncMcpError.isInstance('ASYNCMCP_TIMEOUT')).toBe(false);
  });

  it('does not expose the marker as an enumerable property', () => {
    const error = new ConfigurationError('x');
    const marker = Symbol.for('asyncmcp.error');
    expect(Object.getOwnPropertySymbols(error)).toContain(marker);
    expect(Object.getOwnPropertyDescriptor(error, marker)?.enumerable).toBe(false);
    expect(Object.getOwnPropertySymbols({ ...error })).not.toContain(marker);
  });
});

describe('subclasses', () => {
  it('ConfigurationError', () => {
    const cause = new Error('inner');
    const error = new ConfigurationError('bad option', { cause });
    expect(error).toBeInstanceOf(AsyncMcpError);
    expect(error.name).toBe('ConfigurationError');
    expect(error.code).toBe('ASYNCMCP_CONFIGURATION');
    expect(error.message).toBe('bad option');
    expect(error.cause).toBe(cause);
    expect(error.isRetryable).toBe(false);
  });

  it('TransportStateError closed / not-started', () => {
    const closed = new TransportStateError('closed');
    expect(closed.code).toBe('ASYNCMCP_TRANSPORT_CLOSED');
    expect(closed.message).toBe('The transport is closed');
    expect(closed.name).toBe('TransportStateError');
    const session = new TransportStateError('closed', 'session');
    expect(session.message).toBe('The session is closed');
    const notStarted = new TransportStateError('not-started');
    expect(notStarted.code).toBe('ASYNCMCP_TRANSPORT_NOT_STARTED');
    expect(notStarted.message).toBe('The transport has not been started; call start() first');
  });

  it('MessageTooLargeError', () => {
    const error = new MessageTooLargeError({ size: 300_000, limit: 262_144, channel: 'SNS' });
    expect(error.code).toBe('ASYNCMCP_MESSAGE_TOO_LARGE');
    expect(error.size).toBe(300_000);
    expect(error.limit).toBe(262_144);
    expect(error.message).toBe('Message of 300000 bytes exceeds the SNS limit of 262144 bytes');
    expect(error.isRetryable).toBe(false);
    expect(error.name).toBe('MessageTooLargeError');
  });

  it('SessionError: a limit is retryable, a missing session is not', () => {
    const limit = new SessionError({
      message: 'full',
      code: AsyncMcpErrorCode.SessionLimit,
      sessionId: 's1',
    });
    expect(limit.code).toBe('ASYNCMCP_SESSION_LIMIT');
    expect(limit.isRetryable).toBe(true);
    expect(limit.sessionId).toBe('s1');
    expect(limit.name).toBe('SessionError');
    const missing = new SessionError({ message: 'gone', code: AsyncMcpErrorCode.SessionNotFound });
    expect(missing.isRetryable).toBe(false);
    expect(missing.sessionId).toBeUndefined();
  });

  it('DeliveryError is retryable by default and can be made terminal', () => {
    const cause = new Error('throttled');
    const retryable = new DeliveryError({ message: 'send failed', cause });
    expect(retryable.code).toBe('ASYNCMCP_DELIVERY_FAILED');
    expect(retryable.isRetryable).toBe(true);
    expect(retryable.cause).toBe(cause);
    expect(new DeliveryError({ message: 'x', isRetryable: false }).isRetryable).toBe(false);
  });

  it('TimeoutError is retryable', () => {
    const error = new TimeoutError('took too long');
    expect(error.code).toBe('ASYNCMCP_TIMEOUT');
    expect(error.isRetryable).toBe(true);
    expect(error.name).toBe('TimeoutError');
  });
});

describe('describeError', () => {
  it('describes errors, strings and other values in one line', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('plain text')).toBe('plain text');
    expect(describeError({ status: 500 })).toBe('{"status":500}');
    expect(describeError(42)).toBe('42');
    expect(describeError(undefined)).toBe('undefined');
  });

  it('survives values JSON cannot serialise', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(describeError(circular)).toBe('[object Object]');
    expect(describeError(10n)).toBe('10');
  });
});

describe('toError', () => {
  it('returns an Error as it is and wraps anything else', () => {
    const original = new Error('x');
    expect(toError(original)).toBe(original);
    const wrapped = toError({ code: 1 });
    expect(wrapped).toBeInstanceOf(Error);
    expect(wrapped.message).toBe('{"code":1}');
    expect(toError('text').message).toBe('text');
  });
});
