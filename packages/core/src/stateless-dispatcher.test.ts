import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryError, MessageTooLargeError } from './errors.js';
import { RequestMetaKey, readWorkerHint } from './meta.js';
import type { StatelessDispatcher } from './stateless-dispatcher.js';
import {
  ADDRESS,
  accepted,
  attrs,
  flush,
  type Harness,
  inbound,
  initializeRequest,
  harness as makeHarness,
  PROTOCOL_VERSION,
  rejected,
  statelessRequest,
  textOf,
  toolCall,
  track,
  within,
} from './testing/stateless-harness.js';

const dispatchers: StatelessDispatcher<string>[] = [];

afterEach(async () => {
  for (const dispatcher of dispatchers.splice(0)) await within(dispatcher.close({ timeoutMs: 0 }), 'close');
});

function harness(...args: Parameters<typeof makeHarness>): Harness {
  const h = makeHarness(...args);
  dispatchers.push(h.dispatcher);
  return h;
}

describe('StatelessDispatcher: initialize', () => {
  it("answers with the pooled server's InitializeResult, a minted session id and the stateless hint", async () => {
    const { dispatcher, outbox, servers } = harness();
    const result = accepted(await dispatcher.dispatch(inbound(initializeRequest(7))));
    expect(result.sessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(result.created).toBe(true);
    expect(await within(result.settled, 'settled')).toBe('answered');
    const answer = await outbox.answer(result.sessionId, 7);
    expect(answer.target).toEqual({ sessionId: result.sessionId, address: ADDRESS });
    const init = 'result' in answer.message ? answer.message.result : {};
    expect(init).toMatchObject({
      protocolVersion: PROTOCOL_VERSION,
      serverInfo: { name: 'stateless-test-server', version: '1.0.0' },
      capabilities: { tools: expect.any(Object) },
    });
    expect(readWorkerHint(answer.message)).toEqual({ stateless: true });
    expect(servers).toHaveLength(1);
    expect(dispatcher.sessions.size).toBe(0);
    expect(dispatcher.stats).toMatchObject({ accepted: 1, sessionsOpened: 1, serversStarted: 1 });
  });

  it('adopts a proposed session id and shares one server among initializes with one key', async () => {
    const { dispatcher, outbox, servers } = harness();
    const a = accepted(await dispatcher.dispatch(inbound(initializeRequest(0), { SessionId: 'gw-1' })));
    const b = accepted(await dispatcher.dispatch(inbound(initializeRequest(0), { SessionId: 'not valid' })));
    expect(a.sessionId).toBe('gw-1');
    expect(b.sessionId).toMatch(/^[0-9a-f]{32}$/);
    await within(Promise.all([a.settled, b.settled]), 'settled');
    expect(outbox.answersTo('gw-1', 0)).toHaveLength(1);
    expect(servers).toHaveLength(1);
  });

  it('rejects an initialize without an answer address', async () => {
    const { dispatcher, outbox } = harness();
    const result = rejected(await dispatcher.dispatch(inbound(initializeRequest(0, null))));
    expect(result.reason).toBe('missing-address');
    expect(result.error.error.message).toBe('Validation error: initialize is missing _meta.responseQueueUrl');
    expect(outbox.sent).toHaveLength(0);
  });
});

describe('StatelessDispatcher: requests', () => {
  it('answers a tools/call of a session it never saw (opened by another worker)', async () => {
    const { dispatcher, outbox } = harness();
    const result = accepted(
      await dispatcher.dispatch(inbound(toolCall(3, 'echo', { text: 'hi' }), attrs('other-worker-session'))),
    );
    expect(result.created).toBe(false);
    expect(await within(result.settled, 'settled')).toBe('answered');
    const answer = await outbox.answer('other-worker-session', 3);
    expect(answer.target).toEqual({ sessionId: 'other-worker-session', address: ADDRESS });
    expect(textOf(answer)).toBe('hi');
    expect(dispatcher.inFlight).toBe(0);
  });

  it('reuses one server per key and starts another for a different key', async () => {
    const { dispatcher, outbox, servers } = harness();
    const other = { clientInfo: { name: 'other-client', version: '2.0.0' } };
    const calls = [
      inbound(toolCall(1, 'whoami'), attrs('s-1')),
      inbound(toolCall(1, 'whoami'), attrs('s-2')),
      inbound(toolCall(1, 'whoami', {}, other), attrs('s-3')),
    ];
    for (const call of calls) await within(accepted(await dispatcher.dispatch(call)).settled, 'settled');
    expect(servers).toHaveLength(2);
    expect(textOf(await outbox.answer('s-2', 1))).toBe('test-client');
    expect(textOf(await outbox.answer('s-3', 1))).toBe('other-client');
  });

  it('answers concurrent requests with the same id from two sessions on one server', async () => {
    const { dispatcher, outbox, servers, gates } = harness();
    const a = accepted(await dispatcher.dispatch(inbound(toolCall(1, 'wait', { text: 'A' }), attrs('s-a'))));
    const b = accepted(
      await dispatcher.dispatch(
        inbound(toolCall(1, 'wait', { text: 'B' }, { address: 'queue-b' }), attrs('s-b')),
      ),
    );
    await gates.held(2);
    expect(servers).toHaveLength(1);
    expect(dispatcher.inFlight).toBe(2);
    gates.open('B');
    expect(await within(b.settled, 'b settled')).toBe('answered');
    gates.open('A');
    expect(await within(a.settled, 'a settled')).toBe('answered');
    const answerA = await outbox.answer('s-a', 1);
    const answerB = await outbox.answer('s-b', 1);
    expect([textOf(answerA), answerA.target.address]).toEqual(['A', ADDRESS]);
    expect([textOf(answerB), answerB.target.address]).toEqual(['B', 'queue-b']);
  });

  it('answers -32602 naming what a request without its client _meta lacks', async () => {
    const { dispatcher, outbox } = harness();
    const request = toolCall(
      4,
      'echo',
      { text: 'x' },
      { omit: [RequestMetaKey.ClientInfo, RequestMetaKey.ProtocolVersion] },
    );
    const result = rejected(await dispatcher.dispatch(inbound(request, attrs('s-1'))));
    expect(result.reason).toBe('validation');
    expect(result.replied).toBe(true);
    const answer = await outbox.answer('s-1', 4);
    expect('error' in answer.message && answer.message.error.code).toBe(-32602);
    const text = 'error' in answer.message ? answer.message.error.message : '';
    expect(text).toContain(RequestMetaKey.ClientInfo);
    expect(text).toContain(RequestMetaKey.ProtocolVersion);
    expect(text).not.toContain(RequestMetaKey.ClientCapabilities);
  });

  it('rejects a request without an answer address, and one with an invalid clientInfo', async () => {
    const { dispatcher, outbox } = harness();
    const noAddress = toolCall(1, 'echo', { text: 'x' }, { address: null });
    expect(rejected(await dispatcher.dispatch(inbound(noAddress, attrs('s-1')))).reason).toBe(
      'missing-address',
    );
    const bad = toolCall(2, 'echo', { text: 'x' }, { meta: { [RequestMetaKey.ClientInfo]: { name: 5 } } });
    const result = rejected(await dispatcher.dispatch(inbound(bad, attrs('s-1'))));
    expect(result.error.error.message).toContain(`_meta["${RequestMetaKey.ClientInfo}"].name`);
    expect(outbox.sent.map((sent) => sent.message)).toEqual([result.error]);
  });

  it('answers resources/subscribe with -32601: subscriptions need a stateful session', async () => {
    const { dispatcher, outbox, servers } = harness();
    const request = statelessRequest(5, 'resources/subscribe', { uri: 'file:///a' });
    const result = accepted(await dispatcher.dispatch(inbound(request, attrs('s-1'))));
    expect(await within(result.settled, 'settled')).toBe('answered');
    const answer = (await outbox.answer('s-1', 5)).message;
    expect('error' in answer && answer.error.code).toBe(-32601);
    expect('error' in answer && answer.error.message).toMatch(/stateful session.*stateless/);
    expect(servers).toHaveLength(0);
  });

  it('refuses a server-to-client request at once, and the tool call is still answered', async () => {
    const { dispatcher, outbox } = harness();
    const result = accepted(await dispatcher.dispatch(inbound(toolCall(6, 'sample'), attrs('s-1'))));
    expect(await within(result.settled, 'settled')).toBe('answered');
    expect(textOf(await outbox.answer('s-1', 6))).toMatch(/^refused: .*sampling\/createMessage.*stateless/);
    expect(outbox.sent.filter((sent) => 'method' in sent.message)).toEqual([]);
    expect(dispatcher.stats.serverRequestsRefused).toBe(1);
  });

  it('sends progress of a call to its session with the original id as relatedRequestId', async () => {
    const { dispatcher, outbox, gates } = harness();
    const request = toolCall(7, 'wait', { text: 'p' }, { meta: { progressToken: 'tok' } });
    const result = accepted(await dispatcher.dispatch(inbound(request, attrs('s-1'))));
    const progress = await outbox.waitFor(({ message }) => 'method' in message, 'progress');
    expect(progress.message).toMatchObject({
      method: 'notifications/progress',
      params: { progressToken: 'tok' },
    });
    expect(progress.target).toEqual({ sessionId: 's-1', address: ADDRESS, relatedRequestId: 7 });
    await gates.held(1);
    gates.open('p');
    expect(await within(result.settled, 'settled')).toBe('answered');
  });

  it('settles a cancelled request "cancelled" and sends no answer for it', async () => {
    const { dispatcher, outbox, gates } = harness();
    const call = accepted(
      await dispatcher.dispatch(inbound(toolCall(8, 'wait', { text: 'c' }), attrs('s-1'))),
    );
    await gates.held(1);
    const cancel = { jsonrpc: '2.0' as const, method: 'notifications/cancelled', params: { requestId: 8 } };
    const notified = accepted(await dispatcher.dispatch(inbound(cancel, attrs('s-1'))));
    expect(await within(notified.settled, 'cancel delivered')).toBe('delivered');
    expect(await within(call.settled, 'call settled')).toBe('cancelled');
    // The server got the cancel under the id it knows the call by: the handler's signal fired.
    await gates.aborted('c');
    await flush();
    expect(outbox.answersTo('s-1', 8)).toEqual([]);
    expect(dispatcher.inFlight).toBe(0);
  });

  it('settles other client notifications "delivered"', async () => {
    const { dispatcher } = harness();
    for (const method of ['notifications/initialized', 'notifications/asyncmcp/terminate']) {
      const result = accepted(await dispatcher.dispatch(inbound({ jsonrpc: '2.0', method }, attrs('s-1'))));
      expect(await within(result.settled, method)).toBe('delivered');
    }
  });

  it('fails a call whose server closes under it, and the redelivery is run again', async () => {
    const { dispatcher, outbox, servers, gates } = harness();
    const request = toolCall(9, 'wait', { text: 'crash' });
    const first = accepted(await dispatcher.dispatch(inbound(request, attrs('s-1'))));
    await gates.held(1);
    await servers[0]?.close();
    expect(await within(first.settled, 'failed')).toBe('failed');
    expect(dispatcher.stats).toMatchObject({ serversCrashed: 1, serversClosed: 1 });
    const again = accepted(
      await dispatcher.dispatch(inbound(toolCall(9, 'echo', { text: 'ok' }), attrs('s-1'))),
    );
    expect(await within(again.settled, 'retried')).toBe('answered');
    expect(servers).toHaveLength(2);
    expect(outbox.answersTo('s-1', 9).map(textOf)).toEqual(['ok']);
  });

  it('skips a redelivered request, in flight or answered', async () => {
    const { dispatcher, outbox, gates } = harness();
    const request = toolCall(10, 'wait', { text: 'd' });
    const first = accepted(await dispatcher.dispatch(inbound(request, attrs('s-1'))));
    await gates.held(1);
    const whileRunning = track(accepted(await dispatcher.dispatch(inbound(request, attrs('s-1')))).settled);
    await flush();
    expect(whileRunning.done()).toBe(false);
    gates.open('d');
    expect(await within(first.settled, 'first')).toBe('answered');
    const after = accepted(await dispatcher.dispatch(inbound(request, attrs('s-1'))));
    expect(await within(after.settled, 'after')).toBe('duplicate');
    expect(dispatcher.stats.duplicates).toBe(2);
    expect(outbox.answersTo('s-1', 10)).toHaveLength(1);
  });

  it('answers an undeliverable answer with an error, and fails one the channel may take later', async () => {
    const { dispatcher, outbox } = harness();
    outbox.fail = (message) =>
      'result' in message ? new MessageTooLargeError({ size: 2, limit: 1, channel: 'test' }) : undefined;
    const big = accepted(
      await dispatcher.dispatch(inbound(toolCall(11, 'echo', { text: 'x' }), attrs('s-1'))),
    );
    expect(await within(big.settled, 'too large')).toBe('answered');
    expect((await outbox.answer('s-1', 11)).message).toMatchObject({ error: { code: -32603 } });
    outbox.fail = (message) =>
      'result' in message ? new DeliveryError({ message: 'throttled', isRetryable: true }) : undefined;
    const later = accepted(
      await dispatcher.dispatch(inbound(toolCall(12, 'echo', { text: 'y' }), attrs('s-1'))),
    );
    expect(await within(later.settled, 'retryable')).toBe('failed');
  });
});

describe('StatelessDispatcher: validation as SessionDispatcher', () => {
  it('rejects malformed, versionless and sessionless messages with the errors of §5', async () => {
    const { dispatcher, outbox } = harness();
    expect(rejected(await dispatcher.dispatch(inbound('{nope', attrs('s-1')))).reason).toBe('parse');
    const version = rejected(
      await dispatcher.dispatch(
        inbound(toolCall(1, 'echo'), { SessionId: 's-1', ProtocolVersion: '1999-01-01' }),
      ),
    );
    expect(version.error.error.message).toMatch(/^Unsupported protocol version: 1999-01-01/);
    const missing = rejected(await dispatcher.dispatch(inbound(toolCall(2, 'echo'))));
    expect([missing.reason, missing.replied]).toEqual(['missing-session', false]);
    const invalid = rejected(
      await dispatcher.dispatch(inbound(toolCall(3, 'echo'), { SessionId: 'bad id' })),
    );
    expect(invalid.error.error.message).toBe('Invalid session ID format: bad id');
    expect(
      outbox.sent.map(({ message, target }) => ['id' in message && message.id, target.sessionId]),
    ).toEqual([
      [1, 's-1'],
      [3, 'bad id'],
    ]);
  });

  it('answers a request that fails validation at the address it names', async () => {
    const { dispatcher, outbox } = harness();
    const body = {
      jsonrpc: '2.0',
      id: 4,
      method: 'tools/call',
      params: { _meta: { responseQueueUrl: 'queue-z' } },
      extra: 1,
    };
    const result = rejected(
      await dispatcher.dispatch(inbound({ ...body, jsonrpc: '1.0' } as never, attrs('s-1'))),
    );
    expect([result.reason, result.replied]).toEqual(['validation', true]);
    expect(outbox.sent[0]?.target).toEqual({ sessionId: 's-1', address: 'queue-z' });
  });
});

describe('StatelessDispatcher: close and idle servers', () => {
  it('waits for running requests, then closes every server and refuses new messages unanswered', async () => {
    const { dispatcher, servers, gates } = harness();
    const call = accepted(
      await dispatcher.dispatch(inbound(toolCall(1, 'wait', { text: 'z' }), attrs('s-1'))),
    );
    await gates.held(1);
    const closing = track(dispatcher.close({ timeoutMs: 10_000 }));
    await flush();
    expect(closing.done()).toBe(false);
    const late = rejected(
      await dispatcher.dispatch(inbound(toolCall(2, 'echo', { text: 'x' }), attrs('s-1'))),
    );
    expect([late.reason, late.replied]).toEqual(['closing', false]);
    gates.open('z');
    expect(await within(call.settled, 'settled')).toBe('answered');
    await within(dispatcher.close(), 'closed');
    expect(servers.map((server) => server.isConnected())).toEqual([false]);
  });

  it("fails what still runs at close's deadline", async () => {
    const { dispatcher, gates, clock } = harness();
    const call = accepted(
      await dispatcher.dispatch(inbound(toolCall(1, 'wait', { text: 'slow' }), attrs('s-1'))),
    );
    await gates.held(1);
    const closed = dispatcher.close({ timeoutMs: 1_000 });
    clock.advance(1_000);
    await within(closed, 'closed');
    expect(await within(call.settled, 'settled')).toBe('failed');
  });

  it('closes a server unused for serverIdleTimeoutMs', async () => {
    const { dispatcher, servers, clock } = harness({ serverIdleTimeoutMs: 5_000 });
    await within(
      accepted(await dispatcher.dispatch(inbound(toolCall(1, 'echo', { text: 'x' }), attrs('s-1')))).settled,
      'x',
    );
    clock.advance(4_999);
    expect(servers[0]?.isConnected()).toBe(true);
    clock.advance(1);
    await flush();
    expect(servers[0]?.isConnected()).toBe(false);
    expect(dispatcher.stats).toMatchObject({ serversIdleClosed: 1, serversCrashed: 0 });
  });
});
