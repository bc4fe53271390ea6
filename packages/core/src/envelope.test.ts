import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import {
  Attribute,
  buildClientAttributes,
  buildServerAttributes,
  CLIENT_RESERVED_ATTRIBUTE_COUNT,
  flattenAttributes,
  MAX_MESSAGE_ATTRIBUTES,
  MESSAGE_TYPE_JSONRPC,
  readEnvelope,
  type UnwrappedBody,
  unwrapSnsEnvelope,
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

function str(value: string): { DataType: 'String'; StringValue: string } {
  return { DataType: 'String', StringValue: value };
}

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

function message(result: UnwrappedBody): {
  body: string;
  attributes: Record<string, string>;
  fromSns: boolean;
} {
  if (result.kind !== 'message') throw new Error(`expected a message, got ${result.kind}`);
  return { body: result.body, attributes: result.attributes, fromSns: result.fromSnsEnvelope };
}

describe('constants', () => {
  it('names the protocol attributes exactly as PROTOCOL.md §1, plus our optional RelatedRequestId', () => {
    expect(Attribute).toEqual({
      MessageType: 'MessageType',
      Timestamp: 'Timestamp',
      RequestId: 'RequestId',
      Method: 'Method',
      SessionId: 'SessionId',
      ClientId: 'ClientId',
      ProtocolVersion: 'ProtocolVersion',
      RelatedRequestId: 'RelatedRequestId',
    });
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
    ).toEqual({
      DataType: 'String',
      StringValue: 'g-1',
    });
    const answer = { jsonrpc: '2.0' as const, id: 4, result: {} };
    expect(
      buildServerAttributes({ message: answer, sessionId: 's', relatedRequestId: 4 }).RelatedRequestId,
    ).toBeUndefined();
    expect(buildServerAttributes({ message: notification, sessionId: 's' }).RelatedRequestId).toBeUndefined();
  });
});

describe('buildClientAttributes', () => {
  it('sets every protocol attribute on a request, Timestamp as Number in Unix seconds', () => {
    const attributes = buildClientAttributes({
      message: request,
      clientId: 'client-1',
      sessionId: 'sess-1',
      protocolVersion: '2025-06-18',
      now: NOW,
    });
    expect(attributes).toEqual({
      MessageType: str('jsonrpc'),
      Timestamp: { DataType: 'Number', StringValue: NOW_SECONDS },
      RequestId: str('5'),
      Method: str('tools/call'),
      ClientId: str('client-1'),
      SessionId: str('sess-1'),
      ProtocolVersion: str('2025-06-18'),
    });
  });

  it('uses String(id) for a string request id', () => {
    const attributes = buildClientAttributes({ message: stringIdRequest, clientId: 'c', now: NOW });
    expect(attributes.RequestId).toEqual(str('abc'));
    expect(attributes.Method).toEqual(str('ping'));
  });

  it('sets Method but not RequestId on a notification', () => {
    const attributes = buildClientAttributes({ message: notification, clientId: 'c', now: NOW });
    expect(attributes.Method).toEqual(str('notifications/initialized'));
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
    expect(attributes.ClientId).toEqual(str('c'));
  });

  it('uses only String and Number data types (Number only for Timestamp)', () => {
    const attributes = buildClientAttributes({
      message: request,
      clientId: 'c',
      sessionId: 's',
      protocolVersion: 'v',
      custom: { Team: 'a' },
      now: NOW,
    });
    for (const [name, attribute] of Object.entries(attributes)) {
      expect(attribute.DataType).toBe(name === 'Timestamp' ? 'Number' : 'String');
      expect(typeof attribute.StringValue).toBe('string');
    }
  });

  it('defaults the timestamp to now, in seconds', () => {
    const before = Math.floor(Date.now() / 1000);
    const attributes = buildClientAttributes({ message: request, clientId: 'c' });
    const after = Math.floor(Date.now() / 1000);
    const value = Number(attributes.Timestamp?.StringValue);
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
    expect(attributes.Team).toEqual(str('search'));
    expect(attributes.SessionId).toEqual(str('real-session'));
    expect(attributes.ClientId).toEqual(str('real-client'));
    expect(attributes.MessageType).toEqual(str('jsonrpc'));
    expect(attributes.Method).toEqual(str('tools/call'));
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
    expect(attributes.Timestamp).toEqual({ DataType: 'Number', StringValue: NOW_SECONDS });
  });
});

describe('buildServerAttributes', () => {
  it('always carries the session id, and no ClientId', () => {
    const attributes = buildServerAttributes({ message: response, sessionId: 'sess-9', now: NOW });
    expect(attributes).toEqual({
      MessageType: str('jsonrpc'),
      Timestamp: { DataType: 'Number', StringValue: NOW_SECONDS },
      SessionId: str('sess-9'),
    });
  });

  it('adds RequestId and Method on server→client requests', () => {
    const attributes = buildServerAttributes({
      message: { jsonrpc: '2.0', id: 0, method: 'sampling/createMessage' },
      sessionId: 's',
      now: NOW,
    });
    expect(attributes.RequestId).toEqual(str('0'));
    expect(attributes.Method).toEqual(str('sampling/createMessage'));
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
    expect(attributes.Method).toEqual(str('notifications/progress'));
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

describe('flattenAttributes', () => {
  it('is empty for undefined', () => {
    expect(flattenAttributes(undefined)).toEqual({});
  });

  it('reads SQS StringValue and SNS envelope Value shapes', () => {
    expect(
      flattenAttributes({
        SessionId: { DataType: 'String', StringValue: 'abc' },
        Timestamp: { DataType: 'Number', StringValue: '17' },
        ClientId: { Type: 'String', Value: 'client' },
      }),
    ).toEqual({ SessionId: 'abc', Timestamp: '17', ClientId: 'client' });
  });

  it('prefers StringValue when both are present and skips attributes without a string value', () => {
    expect(
      flattenAttributes({
        Both: { StringValue: 'sqs', Value: 'sns' },
        Binary: { DataType: 'Binary' },
      }),
    ).toEqual({ Both: 'sqs' });
  });

  it('round-trips what the builders produce', () => {
    const built = buildClientAttributes({ message: request, clientId: 'c', sessionId: 's', now: NOW });
    expect(flattenAttributes(built)).toEqual({
      MessageType: 'jsonrpc',
      Timestamp: NOW_SECONDS,
      RequestId: '5',
      Method: 'tools/call',
      ClientId: 'c',
      SessionId: 's',
    });
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

describe('unwrapSnsEnvelope', () => {
  const jsonRpcBody = '{"jsonrpc":"2.0","id":1,"method":"ping"}';

  it('passes a raw (raw-delivery) body through with flattened SQS attributes', () => {
    const result = message(
      unwrapSnsEnvelope(jsonRpcBody, { SessionId: { DataType: 'String', StringValue: 's1' } }),
    );
    expect(result).toEqual({ body: jsonRpcBody, attributes: { SessionId: 's1' }, fromSns: false });
  });

  it('passes a raw body through without attributes', () => {
    expect(message(unwrapSnsEnvelope(jsonRpcBody))).toEqual({
      body: jsonRpcBody,
      attributes: {},
      fromSns: false,
    });
  });

  it('unwraps an SNS Notification envelope and reads its MessageAttributes {Type, Value}', () => {
    const envelope = JSON.stringify({
      Type: 'Notification',
      MessageId: 'm-1',
      TopicArn: 'arn:aws:sns:us-east-1:123:requests',
      Message: jsonRpcBody,
      Timestamp: '2025-01-01T00:00:00.000Z',
      MessageAttributes: {
        SessionId: { Type: 'String', Value: 'sess-1' },
        ClientId: { Type: 'String', Value: 'client-1' },
        Timestamp: { Type: 'Number', Value: '1700000000' },
      },
    });
    const result = message(unwrapSnsEnvelope(envelope));
    expect(result.body).toBe(jsonRpcBody);
    expect(result.fromSns).toBe(true);
    expect(result.attributes).toEqual({ SessionId: 'sess-1', ClientId: 'client-1', Timestamp: '1700000000' });
  });

  it('unwraps an envelope with Python json.dumps spacing', () => {
    const envelope = `{"Type": "Notification", "Message": ${JSON.stringify(jsonRpcBody)}}`;
    expect(message(unwrapSnsEnvelope(envelope)).body).toBe(jsonRpcBody);
  });

  it('merges: SQS attributes first, envelope attributes only for names not already present', () => {
    const envelope = JSON.stringify({
      Type: 'Notification',
      Message: jsonRpcBody,
      MessageAttributes: {
        SessionId: { Type: 'String', Value: 'from-envelope' },
        Method: { Type: 'String', Value: 'ping' },
      },
    });
    const result = message(
      unwrapSnsEnvelope(envelope, {
        SessionId: { DataType: 'String', StringValue: 'from-sqs' },
        ClientId: { DataType: 'String', StringValue: 'c' },
      }),
    );
    expect(result.attributes).toEqual({ SessionId: 'from-sqs', ClientId: 'c', Method: 'ping' });
  });

  it('merges envelope attributes whose names are Object.prototype keys', () => {
    const envelope = JSON.stringify({
      Type: 'Notification',
      Message: jsonRpcBody,
      MessageAttributes: {
        constructor: { Type: 'String', Value: 'a' },
        toString: { Type: 'String', Value: 'b' },
      },
    });
    expect(message(unwrapSnsEnvelope(envelope)).attributes).toEqual({ constructor: 'a', toString: 'b' });
  });

  it('re-serialises a Message that is not a string', () => {
    const envelope = JSON.stringify({ Type: 'Notification', Message: { jsonrpc: '2.0', method: 'x' } });
    const result = message(unwrapSnsEnvelope(envelope));
    expect(JSON.parse(result.body)).toEqual({ jsonrpc: '2.0', method: 'x' });
    expect(result.fromSns).toBe(true);
  });

  it('recognises a SubscriptionConfirmation as not a JSON-RPC message', () => {
    const envelope = JSON.stringify({
      Type: 'SubscriptionConfirmation',
      MessageId: 'm',
      Token: 't',
      TopicArn: 'arn:aws:sns:us-east-1:123:responses',
      Message: 'You have chosen to subscribe to the topic ...',
      SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t',
    });
    expect(unwrapSnsEnvelope(envelope)).toEqual({
      kind: 'subscription-confirmation',
      subscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t',
      topicArn: 'arn:aws:sns:us-east-1:123:responses',
      token: 't',
    });
  });

  it('recognises an UnsubscribeConfirmation', () => {
    const envelope = JSON.stringify({ Type: 'UnsubscribeConfirmation', Message: 'bye', TopicArn: 'arn:t' });
    expect(unwrapSnsEnvelope(envelope)).toEqual({ kind: 'unsubscribe-confirmation', topicArn: 'arn:t' });
  });

  it('does not unwrap a JSON-RPC body that merely contains "Type" and "Message" in its params', () => {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: {
        name: 'post',
        arguments: { Type: 'Notification', Message: 'hello', text: 'the "Type" field' },
      },
    });
    expect(body).toContain('"Type"');
    expect(message(unwrapSnsEnvelope(body))).toEqual({ body, attributes: {}, fromSns: false });
  });

  it('does not unwrap a JSON-RPC body whose string value mentions the word Type', () => {
    const body =
      '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"\\"Type\\": Message"}}';
    expect(message(unwrapSnsEnvelope(body))).toEqual({ body, attributes: {}, fromSns: false });
  });

  it('does not unwrap an object with Type but no Message, or a non-string Type', () => {
    const noMessage = '{"Type":"Notification","Subject":"x"}';
    expect(message(unwrapSnsEnvelope(noMessage)).body).toBe(noMessage);
    const numericType = '{"Type":1,"Message":"x"}';
    expect(message(unwrapSnsEnvelope(numericType)).body).toBe(numericType);
  });

  it('returns unparseable or non-object text unchanged for the codec to reject', () => {
    const broken = '{"Type": "Notification", "Message": ';
    expect(message(unwrapSnsEnvelope(broken))).toEqual({ body: broken, attributes: {}, fromSns: false });
    const array = '[{"Type":"Notification","Message":"x"}]';
    expect(message(unwrapSnsEnvelope(array)).body).toBe(array);
  });
});
