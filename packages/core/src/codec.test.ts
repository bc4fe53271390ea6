import type { JSONRPCErrorResponse, JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import {
  byteLength,
  classifyMessage,
  type DecodeResult,
  decodeMessage,
  encodeMessage,
  isAnswer,
  isErrorResponse,
  isInitializeRequest,
  isInitializeResult,
  isNotification,
  isRequest,
  isResultResponse,
  type MessageKind,
  protocolVersionOf,
  validateMessage,
} from './codec.js';

/** Narrows a decode result to a failure, failing the test otherwise. */
function failed(result: DecodeResult): { error: JSONRPCErrorResponse; requestId: unknown } {
  if (result.ok) throw new Error(`expected a decode failure, got ${JSON.stringify(result.message)}`);
  return { error: result.error, requestId: result.requestId };
}

function decoded(result: DecodeResult): { message: JSONRPCMessage; kind: MessageKind } {
  if (!result.ok) throw new Error(`expected a decoded message, got ${JSON.stringify(result.error)}`);
  return { message: result.message, kind: result.kind };
}

function expectParseError(result: DecodeResult): JSONRPCErrorResponse {
  const { error, requestId } = failed(result);
  expect(error.jsonrpc).toBe('2.0');
  expect(error.error.code).toBe(-32700);
  expect(error.error.message.startsWith('Parse error: ')).toBe(true);
  expect(error.error.message.length).toBeGreaterThan('Parse error: '.length);
  expect(error.id).toBe('server-error');
  expect(requestId).toBeUndefined();
  return error;
}

function expectValidationError(
  result: DecodeResult,
  id: string | number = 'server-error',
): JSONRPCErrorResponse {
  const { error, requestId } = failed(result);
  expect(error.jsonrpc).toBe('2.0');
  expect(error.error.code).toBe(-32602);
  expect(error.error.message.startsWith('Validation error: ')).toBe(true);
  expect(error.error.message.length).toBeGreaterThan('Validation error: '.length);
  expect(error.id).toBe(id);
  expect(requestId).toBe(id === 'server-error' ? undefined : id);
  return error;
}

describe('decodeMessage: malformed input (PROTOCOL.md §5)', () => {
  it('rejects an empty body as a parse error', () => {
    const error = expectParseError(decodeMessage(''));
    expect(error.error.message).toBe('Parse error: empty message');
  });

  it('rejects a whitespace-only body as a parse error', () => {
    const error = expectParseError(decodeMessage(' \n\t\r '));
    expect(error.error.message).toBe('Parse error: empty message');
  });

  it('rejects an empty byte body as a parse error', () => {
    expectParseError(decodeMessage(new Uint8Array()));
  });

  it('rejects truncated JSON with a -32700 Parse error: <detail>', () => {
    expectParseError(decodeMessage('{"jsonrpc":"2.0","id":1,"method":"ping"'));
  });

  it('rejects text that is not JSON at all', () => {
    expectParseError(decodeMessage('hello'));
    expectParseError(decodeMessage("{'jsonrpc': '2.0'}"));
  });

  it('rejects bytes that are not UTF-8 as a parse error', () => {
    const error = expectParseError(decodeMessage(new Uint8Array([0xff, 0xfe])));
    expect(error.error.message).toBe('Parse error: body is not valid UTF-8');
  });

  it('rejects invalid UTF-8 inside an otherwise well-formed JSON body', () => {
    const prefix = new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"');
    const suffix = new TextEncoder().encode('"}');
    const bytes = new Uint8Array([...prefix, 0xc3, 0x28, ...suffix]);
    expectParseError(decodeMessage(bytes));
  });

  /** Not a JSON-RPC message: what the error says (`is` exactly, or `has` a part), and the id it carries. */
  const INVALID: ReadonlyArray<{
    what: string;
    text: string;
    id?: string | number;
    is?: string;
    has?: string;
  }> = [
    { what: 'an empty array (a batch)', text: '[]' },
    {
      what: 'a batch of valid messages, even one with readable ids',
      text: '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]',
      has: 'batch',
    },
    { what: 'null', text: 'null', is: 'Validation error: expected a JSON object, got null' },
    { what: 'a number', text: '42', is: 'Validation error: expected a JSON object, got number' },
    { what: 'a string', text: '"ping"', is: 'Validation error: expected a JSON object, got string' },
    { what: 'a boolean', text: 'true' },
    {
      what: 'jsonrpc "1.0", with the readable request id',
      text: '{"jsonrpc":"1.0","id":7,"method":"ping"}',
      id: 7,
      is: 'Validation error: jsonrpc must be "2.0", got "1.0"',
    },
    {
      what: 'a missing jsonrpc, with the readable string request id',
      text: '{"id":"abc","method":"ping"}',
      id: 'abc',
      is: 'Validation error: jsonrpc must be "2.0", got nothing',
    },
    { what: 'a numeric jsonrpc version', text: '{"jsonrpc":2,"id":3,"method":"ping"}', id: 3 },
    {
      what: 'a method that is not a string',
      text: '{"jsonrpc":"2.0","id":9,"method":5}',
      id: 9,
      has: 'method',
    },
    { what: 'a notification whose method is not a string', text: '{"jsonrpc":"2.0","method":{"name":"x"}}' },
    {
      what: 'an unsafe huge numeric id, without echoing it',
      text: '{"jsonrpc":"2.0","id":12345678901234567890,"method":"ping"}',
      has: 'id',
    },
    { what: 'a non-integer numeric id', text: '{"jsonrpc":"2.0","id":1.5,"method":"ping"}' },
    { what: 'a null id', text: '{"jsonrpc":"2.0","id":null,"method":"ping"}' },
  ];

  it.each(INVALID)('rejects $what as a validation error', ({ text, id, is, has }) => {
    const error = expectValidationError(decodeMessage(text), id);
    if (is !== undefined) expect(error.error.message).toBe(is);
    if (has !== undefined) expect(error.error.message).toContain(has);
  });

  it('rejects an object with neither method, result nor error', () => {
    const error = expectValidationError(decodeMessage('{"jsonrpc":"2.0","id":1}'));
    expect(error.error.message).toContain('no method, result or error');
  });

  it('rejects params that are not an object, with the request id', () => {
    expectValidationError(decodeMessage('{"jsonrpc":"2.0","id":4,"method":"tools/list","params":5}'), 4);
  });

  it('rejects a malformed error object in a response with "server-error" (not a request)', () => {
    expectValidationError(decodeMessage('{"jsonrpc":"2.0","id":1,"error":{"code":1}}'));
  });

  it('rejects a result that is not an object', () => {
    expectValidationError(decodeMessage('{"jsonrpc":"2.0","id":1,"result":5}'));
  });

  it('accepts only the id of something shaped like a request for the error', () => {
    // A response with a readable id is not a request: the error cannot answer it.
    expectValidationError(decodeMessage('{"jsonrpc":"1.0","id":5,"result":{}}'));
  });
});

describe('decodeMessage: valid input', () => {
  it('decodes a request', () => {
    const { message, kind } = decoded(decodeMessage('{"jsonrpc":"2.0","id":1,"method":"ping"}'));
    expect(kind).toBe('request');
    expect(message).toEqual({ jsonrpc: '2.0', id: 1, method: 'ping' });
  });

  it('decodes a request with a string id', () => {
    const { message, kind } = decoded(decodeMessage('{"jsonrpc":"2.0","id":"req-1","method":"tools/list"}'));
    expect(kind).toBe('request');
    expect(isRequest(message) && message.id).toBe('req-1');
  });

  it('decodes a request with the largest safe integer id', () => {
    const { message } = decoded(
      decodeMessage(`{"jsonrpc":"2.0","id":${Number.MAX_SAFE_INTEGER},"method":"ping"}`),
    );
    expect(isRequest(message) && message.id).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('decodes a notification', () => {
    const { message, kind } = decoded(
      decodeMessage('{"jsonrpc":"2.0","method":"notifications/initialized"}'),
    );
    expect(kind).toBe('notification');
    expect(isNotification(message)).toBe(true);
  });

  it('decodes a result response', () => {
    const { message, kind } = decoded(decodeMessage('{"jsonrpc":"2.0","id":3,"result":{"tools":[]}}'));
    expect(kind).toBe('response');
    expect(message).toEqual({ jsonrpc: '2.0', id: 3, result: { tools: [] } });
  });

  it('decodes an error response', () => {
    const { message, kind } = decoded(
      decodeMessage('{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found"}}'),
    );
    expect(kind).toBe('error');
    expect(isErrorResponse(message) && message.error.code).toBe(-32601);
  });

  it('decodes the "server-error" errors Python peers send', () => {
    const { kind } = decoded(
      decodeMessage('{"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"x"}}'),
    );
    expect(kind).toBe('error');
  });

  it('decodes UTF-8 bytes', () => {
    const bytes = new TextEncoder().encode(
      '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"s":"héllo ✓"}}',
    );
    const { message, kind } = decoded(decodeMessage(bytes));
    expect(kind).toBe('request');
    expect(message).toEqual({ jsonrpc: '2.0', id: 1, method: 'ping', params: { s: 'héllo ✓' } });
  });

  it('decodes text with Python json.dumps spacing', () => {
    const { message, kind } = decoded(decodeMessage('{"jsonrpc": "2.0", "id": 1, "method": "ping"}'));
    expect(kind).toBe('request');
    expect(message).toEqual({ jsonrpc: '2.0', id: 1, method: 'ping' });
  });

  it('decodes text with surrounding whitespace and newlines', () => {
    const { kind } = decoded(decodeMessage('\n  {"jsonrpc": "2.0",\n "method": "x"}\n'));
    expect(kind).toBe('notification');
  });

  it('preserves unknown fields inside params and _meta (the decoded message is the parsed object)', () => {
    const text = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: 'echo',
        arguments: { text: 'hi' },
        futureField: { nested: [1, 2, 3] },
        _meta: { progressToken: 5, vendorKey: 'v' },
      },
    });
    const { message } = decoded(decodeMessage(text));
    expect(message).toEqual(JSON.parse(text));
    expect(isRequest(message) && message.params?.futureField).toEqual({ nested: [1, 2, 3] });
  });

  it('preserves unknown fields inside a result', () => {
    const text = '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","extra":{"deep":true}}}';
    const { message } = decoded(decodeMessage(text));
    expect(message).toEqual(JSON.parse(text));
  });
});

describe('validateMessage', () => {
  it('validates an already-parsed object', () => {
    const result = validateMessage({ jsonrpc: '2.0', id: 1, method: 'ping' });
    expect(decoded(result).kind).toBe('request');
  });

  it('returns the very object it was given', () => {
    const value = {
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: 1, progress: 1 },
    };
    const result = validateMessage(value);
    expect(decoded(result).message).toBe(value);
  });

  it('rejects undefined with a validation error', () => {
    expectValidationError(validateMessage(undefined));
  });
});

describe('encodeMessage', () => {
  it('produces compact JSON', () => {
    expect(encodeMessage({ jsonrpc: '2.0', id: 1, method: 'ping', params: { a: [1, 2] } })).toBe(
      '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":[1,2]}}',
    );
  });

  const hostile = [
    ['U+FFFE', '\uFFFE', '\\ufffe'],
    ['U+FFFF', '\uFFFF', '\\uffff'],
    ['a lone high surrogate', '\uD800', '\\ud800'],
    ['a lone low surrogate', '\uDC00', '\\udc00'],
    ['NUL', '\u0000', '\\u0000'],
    ['U+0001', '\u0001', '\\u0001'],
    ['U+001F', '\u001F', '\\u001f'],
    ['a vertical tab', '\u000B', '\\u000b'],
  ] as const;

  for (const [name, char, escaped] of hostile) {
    it(`escapes ${name} as \\uXXXX and round-trips`, () => {
      const message: JSONRPCMessage = {
        jsonrpc: '2.0',
        id: 1,
        result: { text: `a${char}b`, [`key${char}`]: char },
      };
      const text = encodeMessage(message);
      expect(text.includes(char)).toBe(false);
      expect(text.toLowerCase()).toContain(escaped);
      const back = decoded(decodeMessage(text));
      expect(back.message).toEqual(message);
    });
  }

  it('leaves no raw character SQS rejects in the output', () => {
    let all = '';
    for (let code = 0; code < 0x20; code++) all += String.fromCharCode(code);
    all += '\uFFFE\uFFFF\uD800\uDBFF\uDC00\uDFFF';
    const message: JSONRPCMessage = {
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: { data: all },
    };
    const text = encodeMessage(message);
    // SQS allows #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF: none outside it may appear raw.
    for (const char of text) {
      const code = char.codePointAt(0) ?? 0;
      const allowed =
        code === 0x9 ||
        code === 0xa ||
        code === 0xd ||
        (code >= 0x20 && code <= 0xd7ff) ||
        (code >= 0xe000 && code <= 0xfffd) ||
        (code >= 0x10000 && code <= 0x10ffff);
      expect(allowed, `U+${code.toString(16)}`).toBe(true);
    }
    expect(decoded(decodeMessage(text)).message).toEqual(message);
  });

  it('keeps valid non-BMP characters (surrogate pairs) and round-trips them', () => {
    const message: JSONRPCMessage = { jsonrpc: '2.0', id: 'x', result: { text: 'smile 😀 日本' } };
    const text = encodeMessage(message);
    expect(text).toContain('😀');
    expect(decoded(decodeMessage(text)).message).toEqual(message);
  });

  it('round-trips through bytes', () => {
    const message: JSONRPCMessage = { jsonrpc: '2.0', id: 2, result: { text: 'é\uFFFF\uD800😀' } };
    const bytes = new TextEncoder().encode(encodeMessage(message));
    expect(decoded(decodeMessage(bytes)).message).toEqual(message);
  });
});

describe('byteLength', () => {
  it('counts UTF-8 bytes, not UTF-16 code units', () => {
    expect(byteLength('abc')).toBe(3);
    expect(byteLength('é')).toBe(2);
    expect(byteLength('😀')).toBe(4);
    expect(byteLength('')).toBe(0);
  });
});

describe('classification helpers', () => {
  const request: JSONRPCMessage = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
  const notification: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
  const response: JSONRPCMessage = { jsonrpc: '2.0', id: 1, result: {} };
  const error: JSONRPCMessage = { jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'x' } };

  it('classifyMessage names each kind', () => {
    expect(classifyMessage(request)).toBe('request');
    expect(classifyMessage(notification)).toBe('notification');
    expect(classifyMessage(response)).toBe('response');
    expect(classifyMessage(error)).toBe('error');
  });

  it('classifyMessage throws on something that is not a message', () => {
    const notAMessage = { jsonrpc: '2.0', id: 1 } as unknown as JSONRPCMessage;
    expect(() => classifyMessage(notAMessage)).toThrow(TypeError);
  });

  it('type guards agree with the kinds', () => {
    expect([
      isRequest(request),
      isNotification(request),
      isResultResponse(request),
      isErrorResponse(request),
    ]).toEqual([true, false, false, false]);
    expect([
      isRequest(notification),
      isNotification(notification),
      isResultResponse(notification),
      isErrorResponse(notification),
    ]).toEqual([false, true, false, false]);
    expect([
      isRequest(response),
      isNotification(response),
      isResultResponse(response),
      isErrorResponse(response),
    ]).toEqual([false, false, true, false]);
    expect([
      isRequest(error),
      isNotification(error),
      isResultResponse(error),
      isErrorResponse(error),
    ]).toEqual([false, false, false, true]);
  });

  it('isAnswer is true for responses and errors only', () => {
    expect(isAnswer(response)).toBe(true);
    expect(isAnswer(error)).toBe(true);
    expect(isAnswer(request)).toBe(false);
    expect(isAnswer(notification)).toBe(false);
  });

  it('isInitializeRequest matches only an initialize request', () => {
    expect(
      isInitializeRequest({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
      }),
    ).toBe(true);
    expect(isInitializeRequest({ jsonrpc: '2.0', method: 'initialize' })).toBe(false);
    expect(isInitializeRequest({ jsonrpc: '2.0', method: 'notifications/initialized' })).toBe(false);
    expect(isInitializeRequest(request)).toBe(false);
    expect(isInitializeRequest(response)).toBe(false);
  });

  it('isInitializeResult and protocolVersionOf read the negotiated version', () => {
    const init: JSONRPCMessage = {
      jsonrpc: '2.0',
      id: 0,
      result: { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 's', version: '1' } },
    };
    expect(isInitializeResult(init)).toBe(true);
    expect(protocolVersionOf(init)).toBe('2025-06-18');
  });

  it('isInitializeResult is false for other messages', () => {
    const numeric: JSONRPCMessage = { jsonrpc: '2.0', id: 0, result: { protocolVersion: 20250618 } };
    const initError: JSONRPCMessage = {
      jsonrpc: '2.0',
      id: 0,
      error: { code: -32602, message: 'Unsupported protocol version', data: { protocolVersion: 'x' } },
    };
    for (const message of [response, error, request, notification, numeric, initError]) {
      expect(isInitializeResult(message)).toBe(false);
      expect(protocolVersionOf(message)).toBeUndefined();
    }
  });
});
