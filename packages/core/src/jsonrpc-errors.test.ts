import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import {
  internalError,
  invalidSessionIdFormatError,
  JsonRpcErrorCode,
  jsonRpcError,
  missingSessionIdError,
  parseError,
  sessionNotFoundError,
  sessionTerminatedError,
  UNKNOWN_REQUEST_ID,
  unsupportedProtocolVersionError,
  validationError,
} from './jsonrpc-errors.js';

describe('JSON-RPC error codes', () => {
  it('use the JSON-RPC 2.0 and MCP SDK numbers', () => {
    expect(JsonRpcErrorCode).toEqual({
      ParseError: -32700,
      InvalidRequest: -32600,
      MethodNotFound: -32601,
      InvalidParams: -32602,
      InternalError: -32603,
      RequestTimeout: -32001,
      ConnectionClosed: -32000,
    });
    expect(UNKNOWN_REQUEST_ID).toBe('server-error');
  });
});

describe('PROTOCOL.md §5 errors', () => {
  const rows = [
    {
      condition: 'body not JSON',
      make: (id?: string | number) => parseError('Unexpected end of JSON input', id),
      code: -32700,
      message: 'Parse error: Unexpected end of JSON input',
    },
    {
      condition: 'not a JSON-RPC message',
      make: (id?: string | number) => validationError('method: expected string', id),
      code: -32602,
      message: 'Validation error: method: expected string',
    },
    {
      condition: 'unsupported ProtocolVersion',
      make: (id?: string | number) =>
        unsupportedProtocolVersionError('1999-01-01', ['2025-06-18', '2025-03-26'], id),
      code: -32600,
      message: 'Unsupported protocol version: 1999-01-01. Supported versions: 2025-06-18, 2025-03-26',
    },
    {
      condition: 'non-initialize message without session id',
      make: (id?: string | number) => missingSessionIdError(id),
      code: -32600,
      message: 'Missing or invalid session ID',
    },
    {
      condition: 'invalid session id format',
      make: (id?: string | number) => invalidSessionIdFormatError('bad id', id),
      code: -32600,
      message: 'Invalid session ID format: bad id',
    },
    {
      condition: 'unknown session',
      make: (id?: string | number) => sessionNotFoundError('abc123', id),
      code: -32600,
      message: 'Session not found: abc123',
    },
    {
      condition: 'terminated session',
      make: (id?: string | number) => sessionTerminatedError('abc123', id),
      code: -32600,
      message: 'Session has been terminated: abc123',
    },
    {
      condition: 'internal failure',
      make: (id?: string | number) => internalError('boom', id),
      code: -32603,
      message: 'Internal error: boom',
    },
  ];

  for (const row of rows) {
    describe(row.condition, () => {
      it('without a request id uses "server-error"', () => {
        expect(row.make()).toEqual({
          jsonrpc: '2.0',
          id: 'server-error',
          error: { code: row.code, message: row.message },
        });
      });

      it('with a numeric request id echoes it', () => {
        expect(row.make(42)).toEqual({
          jsonrpc: '2.0',
          id: 42,
          error: { code: row.code, message: row.message },
        });
      });

      it('with a string request id echoes it', () => {
        expect(row.make('req-7')).toEqual({
          jsonrpc: '2.0',
          id: 'req-7',
          error: { code: row.code, message: row.message },
        });
      });
    });
  }

  it('keeps a request id of 0 (falsy but valid)', () => {
    expect(internalError('x', 0).id).toBe(0);
    expect(missingSessionIdError(0).id).toBe(0);
  });

  it('keeps an empty-string request id', () => {
    expect(sessionNotFoundError('s', '').id).toBe('');
  });

  it('lists the SDK versions joined by ", "', () => {
    const error = unsupportedProtocolVersionError('0.1', SUPPORTED_PROTOCOL_VERSIONS);
    expect(error.error.message).toBe(
      `Unsupported protocol version: 0.1. Supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
    );
    expect(error.error.message).toContain('2025-06-18, ');
  });
});

describe('jsonRpcError', () => {
  it('omits data when not given', () => {
    const error = jsonRpcError(-32601, 'Method not found', 1);
    expect(error).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'Method not found' } });
    expect('data' in error.error).toBe(false);
  });

  it('includes data when given', () => {
    expect(jsonRpcError(-32602, 'bad', undefined, { field: 'x' })).toEqual({
      jsonrpc: '2.0',
      id: 'server-error',
      error: { code: -32602, message: 'bad', data: { field: 'x' } },
    });
  });
});
