import { buildClientAttributes } from '@asyncmcp/core';
import { describe, expect, it } from 'vitest';
import { fromSqsAttributes, sqsMessageSize, toSqsAttributes } from './sqs-attributes.js';

const NOW = 1_700_000_123_987;
const REQUEST = { jsonrpc: '2.0' as const, id: 5, method: 'tools/call' };
/** A client request with every attribute of the protocol set, and a custom one. */
const EVERY = {
  message: REQUEST,
  clientId: 'c',
  sessionId: 's',
  protocolVersion: 'v',
  custom: { Team: 'a' },
};

describe('toSqsAttributes', () => {
  it('spells every attribute as a String but Timestamp, a Number', () => {
    const attributes = buildClientAttributes({ ...EVERY, now: NOW });
    const spelled = toSqsAttributes(attributes);
    expect(Object.keys(spelled)).toEqual(Object.keys(attributes));
    for (const [name, attribute] of Object.entries(spelled)) {
      expect(attribute.DataType).toBe(name === 'Timestamp' ? 'Number' : 'String');
      expect(attribute.StringValue).toBe(attributes[name]);
    }
    expect(spelled.Timestamp).toEqual({ DataType: 'Number', StringValue: '1700000123' });
  });
});

describe('fromSqsAttributes', () => {
  it('is empty for undefined', () => {
    expect(fromSqsAttributes(undefined)).toEqual({});
  });

  it('reads SQS StringValue and SNS envelope Value shapes', () => {
    expect(
      fromSqsAttributes({
        SessionId: { DataType: 'String', StringValue: 'abc' },
        Timestamp: { DataType: 'Number', StringValue: '17' },
        ClientId: { Type: 'String', Value: 'client' },
      }),
    ).toEqual({ SessionId: 'abc', Timestamp: '17', ClientId: 'client' });
  });

  it('prefers StringValue when both are present and skips attributes without a string value', () => {
    const read = fromSqsAttributes({
      Both: { StringValue: 'sqs', Value: 'sns' },
      Binary: { DataType: 'Binary' },
    });
    expect(read).toEqual({ Both: 'sqs' });
  });

  it('round-trips what toSqsAttributes spells', () => {
    const flat = buildClientAttributes({ message: { jsonrpc: '2.0', method: 'x' }, clientId: 'c', now: NOW });
    expect(fromSqsAttributes(toSqsAttributes(flat))).toEqual(flat);
  });
});

describe('sqsMessageSize', () => {
  it('counts body and attribute names, types and values in UTF-8 bytes', () => {
    expect(sqsMessageSize('é', {})).toBe(2);
    expect(sqsMessageSize('{}', { SessionId: 'abc' })).toBe(2 + 9 + 6 + 3);
    expect(sqsMessageSize('{}', { Timestamp: '17' })).toBe(2 + 9 + 6 + 2);
  });
});
