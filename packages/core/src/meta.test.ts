import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { MetaKey, readMeta, withMeta } from './meta.js';

describe('MetaKey', () => {
  it('names the reply-address keys of PROTOCOL.md', () => {
    expect(MetaKey).toEqual({
      ResponseQueueUrl: 'responseQueueUrl',
      ClientTopicArn: 'clientTopicArn',
      WebhookUrl: 'webhookUrl',
    });
  });
});

describe('withMeta', () => {
  it('adds params and _meta when params is absent', () => {
    const request: JSONRPCRequest = { jsonrpc: '2.0', id: 0, method: 'initialize' };
    expect(withMeta(request, { responseQueueUrl: 'https://q' })).toEqual({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { _meta: { responseQueueUrl: 'https://q' } },
    });
  });

  it('adds _meta when params exists without it, keeping the other params', () => {
    const request: JSONRPCRequest = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: { roots: {} },
        clientInfo: { name: 'c', version: '1' },
      },
    };
    expect(withMeta(request, { webhookUrl: 'http://w' })).toEqual({
      ...request,
      params: { ...request.params, _meta: { webhookUrl: 'http://w' } },
    });
  });

  it("keeps the caller's other _meta keys, and the new entries win on a clash", () => {
    const request: JSONRPCRequest = {
      jsonrpc: '2.0',
      id: 'a',
      method: 'initialize',
      params: { _meta: { progressToken: 3, vendor: 'x', responseQueueUrl: 'old' } },
    };
    const result = withMeta(request, { responseQueueUrl: 'new', clientTopicArn: 'arn:t' });
    expect(result.params?._meta).toEqual({
      progressToken: 3,
      vendor: 'x',
      responseQueueUrl: 'new',
      clientTopicArn: 'arn:t',
    });
  });

  it('replaces a _meta that is not an object', () => {
    const request = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { _meta: 'nonsense' },
    } as unknown as JSONRPCRequest;
    expect(withMeta(request, { webhookUrl: 'u' }).params?._meta).toEqual({ webhookUrl: 'u' });
  });

  it('does not mutate the input', () => {
    const request: JSONRPCRequest = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { keep: true, _meta: { progressToken: 1 } },
    };
    const snapshot = structuredClone(request);
    const result = withMeta(request, { responseQueueUrl: 'q' });
    expect(request).toEqual(snapshot);
    expect(result).not.toBe(request);
    expect(result.params).not.toBe(request.params);
    expect(result.params?._meta).not.toBe(request.params?._meta);

    const bare: JSONRPCRequest = { jsonrpc: '2.0', id: 2, method: 'initialize' };
    withMeta(bare, { responseQueueUrl: 'q' });
    expect('params' in bare).toBe(false);
  });
});

describe('readMeta', () => {
  const request: JSONRPCRequest = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { _meta: { responseQueueUrl: 'https://sqs/q', count: 3 } },
  };

  it('reads a string entry', () => {
    expect(readMeta(request, 'responseQueueUrl')).toBe('https://sqs/q');
  });

  it('is undefined for a missing key or a non-string value', () => {
    expect(readMeta(request, 'webhookUrl')).toBeUndefined();
    expect(readMeta(request, 'count')).toBeUndefined();
  });

  it('is undefined without params or _meta', () => {
    expect(readMeta({ jsonrpc: '2.0', id: 1, method: 'initialize' }, 'responseQueueUrl')).toBeUndefined();
    expect(
      readMeta({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }, 'responseQueueUrl'),
    ).toBeUndefined();
  });

  it('is undefined for a _meta that is not an object', () => {
    const odd = {
      jsonrpc: '2.0',
      id: 1,
      method: 'x',
      params: { _meta: ['responseQueueUrl'] },
    } as unknown as JSONRPCMessage;
    expect(readMeta(odd, '0')).toBeUndefined();
  });

  it('is undefined for messages that are not requests', () => {
    const notification: JSONRPCMessage = {
      jsonrpc: '2.0',
      method: 'notifications/initialized',
      params: { _meta: { responseQueueUrl: 'q' } },
    };
    const response: JSONRPCMessage = { jsonrpc: '2.0', id: 1, result: { _meta: { responseQueueUrl: 'q' } } };
    expect(readMeta(notification, 'responseQueueUrl')).toBeUndefined();
    expect(readMeta(response, 'responseQueueUrl')).toBeUndefined();
  });

  it('reads back what withMeta wrote', () => {
    const written = withMeta(
      { jsonrpc: '2.0', id: 0, method: 'initialize' },
      { clientTopicArn: 'arn:aws:sns:x' },
    );
    expect(readMeta(written, MetaKey.ClientTopicArn)).toBe('arn:aws:sns:x');
  });
});
