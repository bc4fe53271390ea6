import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import {
  Attribute,
  buildClientAttributes,
  buildServerAttributes,
  CLIENT_RESERVED_ATTRIBUTE_COUNT,
  MAX_MESSAGE_ATTRIBUTES,
  MESSAGE_TYPE_JSONRPC,
  readEnvelope,
  validateCustomAttributes,
} from './envelope.js';
import { AsyncMcpError, ConfigurationError } from './errors.js';

const NOW = 1_700_000_123_987; // ms
const NOW_SECONDS = '1700000123';

const request: JSONRPCMessage = { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo' } };
const stringIdRequest: JSONRPCMessage = { jsonrpc: '2.0', id: 'abc', method: 'ping' };
const notification: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
const response: JSONRPCMessage = { jsonrpc: '2.0', id: 5, result: {} };
const errorResponse: JSONRPCMessage = { jsonrpc: '2.0', id: 5, error: { code: -32603, message: 'x' } };

function expectConfigurationError(run: () => void, pattern: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigurationError);
  expect(AsyncMcpError.isInstance(caught)).toBe(true);
  if (!AsyncMcpError.isInstance(caught)) return;
  expect(caught.code).toBe('ASYNCMCP_CONFIGURATION');
  expect(caught.message).toMatch(pattern);
}

describe('constants', () => {
  it('names the protocol attributes exactly as PROTOCOL.md §1, plus our optional RelatedRequestId', () => {
    const names = ['MessageType', 'Timestamp', 'RequestId', 'Method', 'SessionId', 'ClientId'];
    expect(Object.values(Attribute)).toEqual([...names, 'ProtocolVersion', 'RelatedRequestId']);
    // Each constant is spelled as the attribute it names.
    for (const [key, name] of Object.entries(Attribute)) expect(name).toBe(key);
    expect(MESSAGE_TYPE_JSONRPC).toBe('jsonrpc');
    expect(MAX_MESSAGE_ATTRIBUTES).toBe(10);
    expect(CLIENT_RESERVED_ATTRIBUTE_COUNT).toBe(7);
  });
});

describe('buildServerAttributes with a related request', () => {
  it('names the related request on notifications and requests, never on answers', () => {
    const notification = {
      jsonrpc: '2.0' as const,
      method: 'notifications/progress',
      params: { progressToken: 1, progress: 1 },
    };
    expect(
      buildServerAttributes({ message: notification, sessionId: 's', relatedRequestId: 'g-1' })
        .RelatedRequestId,
    ).toBe('g-1');
    const answer = { jsonrpc: '2.0' as const, id: 4, result: {} };
    expect(
      buildServerAttributes({ message: answer, sessionId: 's', relatedRequestId: 4 }).RelatedRequestId,
    ).toBeUndefined();
    expect(buildServerAttributes({ message: notification, sessionId: 's' }).RelatedRequestId).toBeUndefined();
  });
});

describe('buildClientAttributes', () => {
  it('sets every protocol attribute on a request, Timestamp in Unix seconds', () => {
    const attributes = buildClientAttributes({
      message: request,
      clientId: 'client-1',
      sessionId: 'sess-1',
      protocolVersion: '2025-06-18',
      now: NOW,
    });
    expect(attributes).toEqual({
      MessageType: 'jsonrpc',
      Timestamp: NOW_SECONDS,
      RequestId: '5',
      Method: 'tools/call',
      ClientId: 'client-1',
      SessionId: 'sess-1',
      ProtocolVersion: '2025-06-18',
    });
  });

  it('uses String(id) for a string request id', () => {
    const attributes = buildClientAttributes({ message: stringIdRequest, clientId: 'c', now: NOW });
    expect(attributes.RequestId).toEqual('abc');
    expect(attributes.Method).toEqual('ping');
  });

  it('sets Method but not RequestId on a notification', () => {
    const attributes = buildClientAttributes({ message: notification, clientId: 'c', now: NOW });
    expect(attributes.Method).toEqual('notifications/initialized');
    expect('RequestId' in attributes).toBe(false);
  });

  it('sets neither Method nor RequestId on responses and errors', () => {
    for (const answer of [response, errorResponse]) {
      const attributes = buildClientAttributes({ message: answer, clientId: 'c', now: NOW });
      expect(Object.keys(attributes).sort()).toEqual(['ClientId', 'MessageType', 'Timestamp']);
    }
  });

  it('omits SessionId and ProtocolVersion until known', () => {
    const attributes = buildClientAttributes({ message: request, clientId: 'c', now: NOW });
    expect('SessionId' in attributes).toBe(false);
    expect('ProtocolVersion' in attributes).toBe(false);
    expect(attributes.ClientId).toEqual('c');
  });

  it('defaults the timestamp to now, in seconds', () => {
    const before = Math.floor(Date.now() / 1000);
    const attributes = buildClientAttributes({ message: request, clientId: 'c' });
    const after = Math.floor(Date.now() / 1000);
    const value = Number(attributes.Timestamp);
    expect(Number.isInteger(value)).toBe(true);
    expect(value).toBeGreaterThanOrEqual(before);
    expect(value).toBeLessThanOrEqual(after);
  });

  it('adds custom attributes but never lets them overwrite a protocol attribute', () => {
    const attributes = buildClientAttributes({
      message: request,
      clientId: 'real-client',
      sessionId: 'real-session',
      custom: {
        Team: 'search',
        SessionId: 'forged',
        ClientId: 'forged',
        MessageType: 'forged',
        Method: 'forged',
      },
      now: NOW,
    });
    expect(attributes.Team).toEqual('search');
    expect(attributes.SessionId).toEqual('real-session');
    expect(attributes.ClientId).toEqual('real-client');
    expect(attributes.MessageType).toEqual('jsonrpc');
    expect(attributes.Method).toEqual('tools/call');
  });

  it('does not smuggle in a reserved attribute that was absent', () => {
    const attributes = buildClientAttributes({
      message: notification,
      clientId: 'c',
      custom: { RequestId: '99', ProtocolVersion: 'forged', SessionId: 'forged', Timestamp: '1' },
      now: NOW,
    });
    expect('RequestId' in attributes).toBe(false);
    expect('ProtocolVersion' in attributes).toBe(false);
    expect('SessionId' in attributes).toBe(false);
    expect(attributes.Timestamp).toEqual(NOW_SECONDS);
  });
});

describe('buildServerAttributes', () => {
  it('always carries the session id, and no ClientId', () => {
    const attributes = buildServerAttributes({ message: response, sessionId: 'sess-9', now: NOW });
    expect(attributes).toEqual({
      MessageType: 'jsonrpc',
      Timestamp: NOW_SECONDS,
      SessionId: 'sess-9',
    });
  });

  it('adds RequestId and Method on server→client requests', () => {
    const attributes = buildServerAttributes({
      message: { jsonrpc: '2.0', id: 0, method: 'sampling/createMessage' },
      sessionId: 's',
      now: NOW,
    });
    expect(attributes.RequestId).toEqual('0');
    expect(attributes.Method).toEqual('sampling/createMessage');
  });

  it('adds only Method on notifications', () => {
    const attributes = buildServerAttributes({
      message: {
        jsonrpc: '2.0',
        method: 'notifications/progress',
        params: { progressToken: 1, progress: 1 },
      },
      sessionId: 's',
      now: NOW,
    });
    expect(attributes.Method).toEqual('notifications/progress');
    expect('RequestId' in attributes).toBe(false);
  });
});

describe('validateCustomAttributes', () => {
  it('accepts undefined, an empty set, and up to three valid attributes', () => {
    expect(() => validateCustomAttributes(undefined)).not.toThrow();
    expect(() => validateCustomAttributes({})).not.toThrow();
    expect(() => validateCustomAttributes({ Team: 'a', 'x-env': 'prod', 'app.name_1': 'z' })).not.toThrow();
  });

  it('rejects every reserved protocol name', () => {
    for (const name of Object.values(Attribute)) {
      expectConfigurationError(
        () => validateCustomAttributes({ [name]: 'x' }),
        /overwrite a protocol attribute/,
      );
    }
  });

  it('rejects more attributes than the budget of 10 - 7 = 3', () => {
    expectConfigurationError(
      () => validateCustomAttributes({ A: '1', B: '2', C: '3', D: '4' }),
      /4 custom message attributes given, but only 3 fit/,
    );
  });

  it('honours a smaller reserved count', () => {
    expect(() => validateCustomAttributes({ A: '1', B: '2', C: '3', D: '4' }, 6)).not.toThrow();
    expectConfigurationError(
      () => validateCustomAttributes({ A: '1', B: '2', C: '3', D: '4', E: '5' }, 6),
      /only 4 fit/,
    );
  });

  it('rejects names SQS does not accept', () => {
    const invalid = [
      'has space',
      'bad/char',
      'ünïcode',
      '',
      '.leading',
      'trailing.',
      'AWS.thing',
      'amazon.x',
      'x'.repeat(257),
    ];
    for (const name of invalid) {
      expectConfigurationError(
        () => validateCustomAttributes({ [name]: 'v' }),
        /not a valid SQS attribute name/,
      );
    }
  });

  it('rejects empty or non-string values', () => {
    expectConfigurationError(() => validateCustomAttributes({ Team: '' }), /must be a non-empty string/);
    const numeric = { Team: 5 } as unknown as Record<string, string>;
    expectConfigurationError(() => validateCustomAttributes(numeric), /must be a non-empty string/);
  });
});

describe('readEnvelope', () => {
  it('reads every protocol field', () => {
    expect(
      readEnvelope({
        MessageType: 'jsonrpc',
        SessionId: 's',
        ClientId: 'c',
        ProtocolVersion: '2025-06-18',
        Method: 'ping',
        RequestId: '3',
        Timestamp: '1700000000',
        Other: 'ignored',
      }),
    ).toEqual({
      messageType: 'jsonrpc',
      sessionId: 's',
      clientId: 'c',
      protocolVersion: '2025-06-18',
      method: 'ping',
      requestId: '3',
      timestamp: 1_700_000_000,
    });
  });

  it('leaves absent fields out and ignores a timestamp that is not a number', () => {
    const fields = readEnvelope({ SessionId: 's', Timestamp: 'yesterday' });
    expect(fields).toEqual({ sessionId: 's' });
    expect('timestamp' in fields).toBe(false);
  });

  it('is empty for no attributes', () => {
    expect(readEnvelope({})).toEqual({});
  });
});
