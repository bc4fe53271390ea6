import type {
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  JSONRPCResultResponse,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { RequestCorrelator } from './request-correlator.js';

function request(id: RequestId, method = 'tools/call'): JSONRPCRequest {
  return { jsonrpc: '2.0', id, method, params: { name: 'echo', arguments: { text: 'hi' } } };
}

function result(id: RequestId, value: Record<string, unknown> = {}): JSONRPCResultResponse {
  return { jsonrpc: '2.0', id, result: value };
}

function cancelled(requestId: RequestId, reason = 'user'): JSONRPCNotification {
  return { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason } };
}

describe('RequestCorrelator', () => {
  it('rewrites request ids to ids unique across sessions even when the originals collide', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    const a = correlator.outbound('session-a', request(0));
    const b = correlator.outbound('session-b', request(0));
    const c = correlator.outbound('session-a', request('0'));
    const ids = [a.id, b.id, c.id];
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) {
      expect(typeof id).toBe('string');
      expect(String(id).startsWith('gw-')).toBe(true);
      expect(correlator.owns(id)).toBe(true);
    }
    expect(correlator.pendingCount).toBe(3);
  });

  it('sends progress tokens unguessable too, and gives a session its own token back', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    const sent = correlator.outbound('a', {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'slow', _meta: { progressToken: 3 } },
    });
    const wireToken = (sent.params?._meta as unknown as { progressToken: string }).progressToken;
    expect(wireToken).toMatch(/^gw-[A-Za-z0-9_-]{22}$/);
    expect(wireToken).not.toBe(sent.id);
    const progress = (token: string | number): JSONRPCNotification => ({
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: token, progress: 1 },
    });
    expect(correlator.restoreProgress('a', progress(wireToken))).toEqual(progress(3));
    // Another session's, a guessed or the client's own token: none is taken.
    expect(correlator.restoreProgress('b', progress(wireToken))).toBeUndefined();
    expect(correlator.restoreProgress('a', progress(3))).toBeUndefined();
    expect(correlator.restoreProgress('a', progress('gw-1'))).toBeUndefined();
    // Once answered, the token is spent.
    correlator.inbound(result(sent.id));
    expect(correlator.restoreProgress('a', progress(wireToken))).toBeUndefined();
  });

  it('mints ids no one can guess from the ones before: 128 random bits after the prefix', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    const ids = Array.from({ length: 100 }, (_, index) =>
      String(correlator.outbound('s', request(index)).id),
    );
    for (const id of ids) expect(id).toMatch(/^gw-[A-Za-z0-9_-]{22}$/);
    expect(new Set(ids).size).toBe(100);
    // What a counter would have minted matches nothing.
    for (let n = 0; n <= 100; n++) expect(correlator.peek(`gw-${n}`)).toBeUndefined();
  });

  it('keeps the rest of the request and does not mutate it', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    const original = request(5);
    const snapshot = structuredClone(original);
    const rewritten = correlator.outbound('s', original);
    expect(original).toEqual(snapshot);
    expect({ ...rewritten, id: 5 }).toEqual(original);
  });

  it('uses a random prefix by default, different per instance', () => {
    const first = new RequestCorrelator().outbound('s', request(1)).id;
    const second = new RequestCorrelator().outbound('s', request(1)).id;
    expect(String(first)).toMatch(/^[0-9a-f]{8}-[A-Za-z0-9_-]{22}$/);
    expect(first).not.toBe(second);
  });

  it('inbound restores the original id and names the session', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    const a = correlator.outbound('session-a', request(0, 'tools/list'));
    const b = correlator.outbound('session-b', request(0, 'tools/call'));

    const answerB = correlator.inbound(result(b.id, { content: [] }));
    expect(answerB).toEqual({
      sessionKey: 'session-b',
      method: 'tools/call',
      message: { jsonrpc: '2.0', id: 0, result: { content: [] } },
    });

    const error: JSONRPCErrorResponse = { jsonrpc: '2.0', id: a.id, error: { code: -32601, message: 'no' } };
    const answerA = correlator.inbound(error);
    expect(answerA?.sessionKey).toBe('session-a');
    expect(answerA?.method).toBe('tools/list');
    expect(answerA?.message).toEqual({ jsonrpc: '2.0', id: 0, error: { code: -32601, message: 'no' } });
    expect(correlator.pendingCount).toBe(0);
  });

  it('restores string ids exactly', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    const sent = correlator.outbound('s', request('client-req-17'));
    expect(correlator.inbound(result(sent.id))?.message.id).toBe('client-req-17');
  });

  it('keeps nothing of a session once its requests are answered or discarded', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    const sent = correlator.outbound('s1', { jsonrpc: '2.0', id: 0, method: 'initialize', params: {} });
    const other = correlator.outbound('s2', { jsonrpc: '2.0', id: 0, method: 'ping' });
    expect(correlator.waitingSessions).toBe(2);
    correlator.inbound({ jsonrpc: '2.0', id: sent.id as unknown as string, result: {} });
    expect(correlator.waitingSessions).toBe(1);
    correlator.discard(other.id as unknown as string);
    expect(correlator.waitingSessions).toBe(0);
    expect(correlator.pendingCount).toBe(0);
  });

  it('matches an answer only once', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    const sent = correlator.outbound('s', request(1));
    expect(correlator.inbound(result(sent.id))).toBeDefined();
    expect(correlator.inbound(result(sent.id))).toBeUndefined();
  });

  it('returns undefined for ids it did not mint', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    correlator.outbound('s', request(1));
    expect(correlator.inbound(result('gw-999'))).toBeUndefined();
    expect(correlator.inbound(result('other-1'))).toBeUndefined();
    expect(correlator.inbound(result(1))).toBeUndefined();
    expect(correlator.inbound(result('server-error'))).toBeUndefined();
    expect(correlator.pendingCount).toBe(1);
  });

  it('owns only string ids with its prefix', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    expect(correlator.owns('gw-1')).toBe(true);
    expect(correlator.owns('gwx-1')).toBe(false);
    expect(correlator.owns(1)).toBe(false);
    expect(correlator.owns(undefined)).toBe(false);
  });

  it('forgetSession returns the pending original ids and methods of that session only', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    const a1 = correlator.outbound('a', request(1, 'tools/call'));
    correlator.outbound('a', request('two', 'resources/read'));
    const b1 = correlator.outbound('b', request(1, 'tools/list'));
    const a3 = correlator.outbound('a', request(3, 'prompts/get'));
    correlator.inbound(result(a3.id));

    const forgotten = correlator.forgetSession('a');
    expect(forgotten).toEqual(
      expect.arrayContaining([
        { id: 1, method: 'tools/call' },
        { id: 'two', method: 'resources/read' },
      ]),
    );
    expect(forgotten).toHaveLength(2);
    expect(correlator.inbound(result(a1.id))).toBeUndefined();
    expect(correlator.inbound(result(b1.id))?.sessionKey).toBe('b');
    expect(correlator.forgetSession('a')).toEqual([]);
    expect(correlator.forgetSession('never')).toEqual([]);
    expect(correlator.pendingCount).toBe(0);
  });

  it('rewrites notifications/cancelled to the gateway id of the pending request', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    const a = correlator.outbound('a', request(7));
    const b = correlator.outbound('b', request(7));
    const cancelA = correlator.outbound('a', cancelled(7));
    expect(cancelA).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: a.id, reason: 'user' },
    });
    const cancelB = correlator.outbound('b', cancelled(7));
    expect(cancelB.params?.requestId).toBe(b.id);
  });

  it('tells numeric and string ids apart when rewriting a cancellation', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    const numeric = correlator.outbound('a', request(1));
    const text = correlator.outbound('a', request('1'));
    expect(correlator.outbound('a', cancelled(1)).params?.requestId).toBe(numeric.id);
    expect(correlator.outbound('a', cancelled('1')).params?.requestId).toBe(text.id);
  });

  it('leaves a cancellation unchanged when it names no pending request of the session', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    const sent = correlator.outbound('a', request(7));
    const otherSession = cancelled(7);
    expect(correlator.outbound('b', otherSession)).toBe(otherSession);
    const unknownId = cancelled(8);
    expect(correlator.outbound('a', unknownId)).toBe(unknownId);
    correlator.inbound(result(sent.id));
    const answered = cancelled(7);
    expect(correlator.outbound('a', answered)).toBe(answered);
    const noParams: JSONRPCNotification = { jsonrpc: '2.0', method: 'notifications/cancelled' };
    expect(correlator.outbound('a', noParams)).toBe(noParams);
  });

  it('does not mutate the cancellation it rewrites', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    correlator.outbound('a', request(7));
    const original = cancelled(7);
    correlator.outbound('a', original);
    expect(original.params?.requestId).toBe(7);
  });

  it('passes other notifications and answers through unchanged', () => {
    const correlator = new RequestCorrelator({ idPrefix: 'gw' });
    correlator.outbound('a', request(1));
    const messages: JSONRPCMessage[] = [
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      {
        jsonrpc: '2.0',
        method: 'notifications/progress',
        params: { progressToken: 1, progress: 1, requestId: 1 },
      },
      { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
      // A client's answer to a server→client request keeps the server's id.
      { jsonrpc: '2.0', id: 0, result: { roots: [] } },
      { jsonrpc: '2.0', id: 3, error: { code: -32601, message: 'no' } },
    ];
    for (const message of messages) expect(correlator.outbound('a', message)).toBe(message);
    expect(correlator.pendingCount).toBe(1);
  });
});
