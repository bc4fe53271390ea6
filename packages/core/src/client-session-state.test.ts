import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { ClientSessionState } from './client-session-state.js';
import { AsyncMcpError, ConfigurationError } from './errors.js';
import { thrownBy } from './testing/thrown-by.js';

const initialize: JSONRPCRequest = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'test', version: '1.0.0' },
    _meta: { progressToken: 'p' },
  },
};
const initializeResult: JSONRPCMessage = {
  jsonrpc: '2.0',
  id: 0,
  result: { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 's', version: '1' } },
};
/** The initialize answer, carrying `worker` as its worker hint. */
function initializeResultHinting(worker: unknown): JSONRPCMessage {
  const { result } = initializeResult as { result: object };
  return {
    ...initializeResult,
    result: { ...result, _meta: { 'asyncmcp/worker': worker } },
  } as JSONRPCMessage;
}
const initialized: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
const toolsList: JSONRPCMessage = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

const META = { responseQueueUrl: 'https://sqs.local/000/client-q' };

describe('ClientSessionState', () => {
  it('injects _meta into initialize, keeping the caller params and _meta keys', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META, clientId: 'client-1' });
    const { message } = state.prepare(initialize);
    expect(message).toEqual({
      ...initialize,
      params: {
        ...initialize.params,
        _meta: { progressToken: 'p', responseQueueUrl: META.responseQueueUrl },
      },
    });
    expect(initialize.params?._meta).toEqual({ progressToken: 'p' });
  });

  it('names where to answer on every request, and on no notification', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META });
    expect(state.prepare(toolsList).message).toEqual({ ...toolsList, params: { _meta: META } });
    expect(state.prepare(initialized).message).toBe(initialized);
  });

  it('reads the worker hint of the initialize answer', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META });
    state.prepare(initialize);
    const hinted = initializeResultHinting({ inbox: 'https://sqs.local/000/inbox', aliveIntervalSeconds: 3 });
    expect(state.receive(hinted, { SessionId: 's-1' }).status).toBe('deliver');
    expect(state.worker).toEqual({ inbox: 'https://sqs.local/000/inbox', aliveIntervalSeconds: 3 });
    // Not stateless: requests carry only the answer address.
    expect(state.prepare(toolsList).message).toEqual({ ...toolsList, params: { _meta: META } });
  });

  it("keeps the client's initialize only for a stateless worker, and the session id as a string of its own", () => {
    const state = new ClientSessionState({ wireIds: false, meta: META });
    state.prepare(initialize);
    const message = `{"SessionId":"${'a'.repeat(32)}","other":"${'x'.repeat(200)}"}`;
    const sessionId = message.slice(14, 46);
    state.receive(initializeResultHinting({ inbox: 'https://sqs.local/000/inbox' }), {
      SessionId: sessionId,
    });
    expect(state.sessionId).toBe('a'.repeat(32));
    // Were the hint to say stateless only now, nothing of the client's initialize is left to repeat.
    state.worker = { stateless: true };
    expect(state.prepare(toolsList).message).toEqual({ ...toolsList, params: { _meta: META } });
  });

  it('puts what a fresh server needs on every request of a stateless session', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META });
    state.prepare(initialize);
    const stateless = initializeResultHinting({ stateless: true });
    state.receive(stateless, { SessionId: 's-1' });
    expect(state.prepare(toolsList).message).toEqual({
      ...toolsList,
      params: {
        _meta: {
          ...META,
          'io.modelcontextprotocol/protocolVersion': '2025-06-18',
          'io.modelcontextprotocol/clientCapabilities': {},
          'io.modelcontextprotocol/clientInfo': { name: 'test', version: '1.0.0' },
        },
      },
    });
    expect(state.prepare(initialized).message).toBe(initialized);
  });

  it("sends a session taken over from another instance as its worker may need: with the key's client until a stateful worker answers", () => {
    const client = { capabilities: { roots: {} }, clientInfo: { name: 'far', version: '2' } };
    const state = new ClientSessionState({ wireIds: false, meta: META });
    state.adoptFromFleet('s-9', { protocolVersion: '2025-11-25', client });
    expect(state.sessionId).toBe('s-9');
    expect(state.prepare(toolsList).attributes).toMatchObject({
      SessionId: 's-9',
      ProtocolVersion: '2025-11-25',
    });
    const withClient = {
      ...toolsList,
      params: {
        _meta: {
          ...META,
          'io.modelcontextprotocol/protocolVersion': '2025-11-25',
          'io.modelcontextprotocol/clientCapabilities': { roots: {} },
          'io.modelcontextprotocol/clientInfo': { name: 'far', version: '2' },
        },
      },
    };
    // Whether its worker is stateless is not known yet: a stateful one ignores what it does not need.
    expect(state.prepare(toolsList).message).toEqual(withClient);
    state.worker = { stateless: true };
    expect(state.prepare(toolsList).message).toEqual(withClient);
    state.worker = { inbox: 'https://sqs.local/000/inbox' };
    expect(state.prepare(toolsList).message).toEqual({ ...toolsList, params: { _meta: META } });

    // A key that names no client (or no protocol version from the client) leaves requests as they are.
    for (const options of [{ protocolVersion: '2025-11-25' }, { protocolVersion: undefined, client }]) {
      const bare = new ClientSessionState({ wireIds: false, meta: META });
      bare.adoptFromFleet('s-10', options);
      expect(bare.prepare(toolsList).message).toEqual({ ...toolsList, params: { _meta: META } });
    }
  });

  it('ignores a malformed worker hint', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META });
    const odd = initializeResultHinting('nope');
    state.receive(odd, { SessionId: 's-1' });
    expect(state.worker).toBeUndefined();
  });

  it('sends ClientId always, a random UUID by default', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META });
    expect(state.clientId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(state.prepare(initialize).attributes.ClientId).toBe(state.clientId);
    expect(new ClientSessionState({ wireIds: false, meta: META }).clientId).not.toBe(state.clientId);
  });

  it('sends no SessionId or ProtocolVersion on initialize without a proposal', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META, clientId: 'c' });
    const attributes = state.prepare(initialize).attributes;
    expect(attributes).toMatchObject({
      MessageType: 'jsonrpc',
      Method: 'initialize',
      RequestId: '0',
      ClientId: 'c',
    });
    expect('SessionId' in attributes).toBe(false);
    expect('ProtocolVersion' in attributes).toBe(false);
  });

  it("sends a proposed session id until the server names the session, then the server's id", () => {
    const state = new ClientSessionState({ wireIds: false, meta: META, proposedSessionId: 'gw-session-1' });
    expect(state.prepare(initialize).attributes.SessionId).toBe('gw-session-1');
    expect(state.prepare(toolsList).attributes.SessionId).toBe('gw-session-1');
    expect(state.sessionId).toBeUndefined();
    state.receive(initializeResult, { SessionId: 'server-picked' });
    expect(state.prepare(toolsList).attributes.SessionId).toBe('server-picked');
  });

  it('before the answer, refuses messages of another session when it proposed an id', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META, proposedSessionId: 'mine' });
    const note: JSONRPCMessage = {
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: { level: 'info', data: 'x' },
    };
    expect(state.accept(note, { SessionId: 'someone-else' })).toBe(false);
    expect(state.accept(note, { SessionId: 'mine' })).toBe(true);
    expect(state.accept(note, {})).toBe(true);
    // A server that picks its own id still names the session in the initialize answer.
    expect(state.receive(initializeResult, { SessionId: 'server-picked' }).status).toBe('deliver');
    expect(state.sessionId).toBe('server-picked');
  });

  it('sends no session id before the answer when none was proposed', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META });
    expect('SessionId' in state.prepare(initialize).attributes).toBe(false);
    expect('SessionId' in state.prepare(toolsList).attributes).toBe(false);
  });

  it('adopts the session id from an initialize result with a SessionId attribute', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META });
    expect(state.receive(initializeResult, { SessionId: 'abc123' }).status).toBe('deliver');
    expect(state.sessionId).toBe('abc123');
  });

  it('does not adopt a session id from other messages', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META });
    const other: JSONRPCMessage[] = [
      { jsonrpc: '2.0', id: 0, result: {} },
      { jsonrpc: '2.0', id: 0, error: { code: -32600, message: 'x' } },
      { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } },
      { jsonrpc: '2.0', id: 9, method: 'roots/list' },
    ];
    for (const message of other) {
      expect(state.receive(message, { SessionId: 'sneaky' }).status).toBe('deliver');
      expect(state.sessionId).toBeUndefined();
    }
  });

  it('does not adopt from an initialize result without SessionId, or with an invalid one', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META });
    expect(state.receive(initializeResult, {}).status).toBe('deliver');
    expect(state.sessionId).toBeUndefined();
    expect(state.receive(initializeResult, { SessionId: 'has space' }).status).toBe('deliver');
    expect(state.sessionId).toBeUndefined();
    expect(state.receive(initializeResult, { SessionId: '' }).status).toBe('deliver');
    expect(state.sessionId).toBeUndefined();
  });

  it('adopts the server-minted id even when it differs from the proposal', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META, proposedSessionId: 'proposed' });
    state.receive(initializeResult, { SessionId: 'minted' });
    expect(state.sessionId).toBe('minted');
    expect(state.prepare(initialize).attributes.SessionId).toBe('minted');
  });

  it('sends SessionId and ProtocolVersion on everything after initialize', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META, clientId: 'c' });
    state.receive(initializeResult, { SessionId: 'sess-1' });
    state.protocolVersion = '2025-06-18';
    for (const message of [initialized, toolsList, { jsonrpc: '2.0', id: 4, result: {} } as JSONRPCMessage]) {
      const attributes = state.prepare(message).attributes;
      expect(attributes.SessionId).toBe('sess-1');
      expect(attributes.ProtocolVersion).toBe('2025-06-18');
      expect(attributes.ClientId).toBe('c');
    }
  });

  it('never sends ProtocolVersion on initialize', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META });
    state.protocolVersion = '2025-06-18';
    expect('ProtocolVersion' in state.prepare(initialize).attributes).toBe(false);
  });

  it('refuses messages carrying a different SessionId once it has one', () => {
    const state = new ClientSessionState({ wireIds: false, meta: META });
    state.receive(initializeResult, { SessionId: 'mine' });
    expect(state.accept(toolsList, { SessionId: 'theirs' })).toBe(false);
    expect(state.accept(initializeResult, { SessionId: 'theirs' })).toBe(false);
    expect(state.sessionId).toBe('mine');
    expect(state.accept(toolsList, { SessionId: 'mine' })).toBe(true);
    expect(state.accept(toolsList, {})).toBe(true);
    // An answer must name the session: the queue it came on may be shared with other sessions.
    expect(state.accept({ jsonrpc: '2.0', id: 1, result: {} }, {})).toBe(false);
    expect(state.accept({ jsonrpc: '2.0', id: 1, result: {} }, { SessionId: 'mine' })).toBe(true);
  });

  it('adds custom attributes to every message', () => {
    const state = new ClientSessionState({
      wireIds: false,
      meta: META,
      customAttributes: { Team: 'search', Env: 'prod' },
    });
    for (const message of [initialize, toolsList]) {
      const attributes = state.prepare(message).attributes;
      expect(attributes.Team).toBe('search');
      expect(attributes.Env).toBe('prod');
    }
  });

  it('throws a ConfigurationError at construction for invalid custom attributes', () => {
    const cases: Array<Record<string, string>> = [
      { SessionId: 'forged' },
      { A: '1', B: '2', C: '3', D: '4' },
      { 'bad name': 'x' },
    ];
    for (const customAttributes of cases) {
      const error = thrownBy(() => new ClientSessionState({ wireIds: false, meta: META, customAttributes }));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(AsyncMcpError.isInstance(error) && error.code).toBe('ASYNCMCP_CONFIGURATION');
    }
  });

  it('throws a ConfigurationError at construction for an invalid proposed session id', () => {
    const error = thrownBy(
      () => new ClientSessionState({ wireIds: false, meta: META, proposedSessionId: 'not valid' }),
    );
    expect(AsyncMcpError.isInstance(error) && error.code).toBe('ASYNCMCP_CONFIGURATION');
  });
});

describe('ClientSessionState ids on the wire', () => {
  const toolsCall: JSONRPCRequest = {
    jsonrpc: '2.0',
    id: 2,
    method: 'tools/call',
    params: { name: 'slow', arguments: {}, _meta: { progressToken: 2 } },
  };

  /** A state past its handshake: initialize sent and answered under the id it went out with. */
  function established(): ClientSessionState {
    const state = new ClientSessionState({ meta: META });
    const sent = state.prepare(initialize).message as JSONRPCRequest;
    const answered = state.receive({ ...initializeResult, id: sent.id } as JSONRPCMessage, {
      SessionId: 's-1',
    });
    expect(answered).toEqual({ status: 'deliver', message: initializeResult });
    expect(state.sessionId).toBe('s-1');
    return state;
  }

  it('sends each request under an unguessable id of its own, and RequestId says the same', () => {
    const state = new ClientSessionState({ meta: META });
    const ids = new Set<unknown>();
    for (let index = 0; index < 50; index++) {
      const { message, attributes } = state.prepare({ ...toolsList, id: 1 });
      const id = (message as JSONRPCRequest).id;
      expect(typeof id).toBe('string');
      expect(String(id)).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(attributes.RequestId).toBe(id);
      ids.add(id);
    }
    expect(ids.size).toBe(50);
  });

  it("takes an answer only for an id it minted, with the client's own id put back", () => {
    const state = established();
    const sent = state.prepare(toolsList).message as JSONRPCRequest;
    // The client's own id, and guesses, match nothing: dropped and counted.
    for (const id of [0, 1, 2, 3, '1', 'server-error']) {
      expect(state.receive({ jsonrpc: '2.0', id, result: { forged: true } }, { SessionId: 's-1' })).toEqual({
        status: 'unmatched',
      });
    }
    expect(state.stats.unmatched).toBe(6);
    // The minted id under another session's id: not ours either.
    expect(state.receive({ jsonrpc: '2.0', id: sent.id, result: {} }, { SessionId: 's-2' }).status).toBe(
      'other-session',
    );
    expect(
      state.receive({ jsonrpc: '2.0', id: sent.id, result: { tools: [] } }, { SessionId: 's-1' }),
    ).toEqual({
      status: 'deliver',
      message: { jsonrpc: '2.0', id: 1, result: { tools: [] } },
    });
    // Once answered, the id is spent: a replay is dropped.
    expect(state.receive({ jsonrpc: '2.0', id: sent.id, result: {} }, { SessionId: 's-1' }).status).toBe(
      'unmatched',
    );
  });

  it('refuses a forged initialize answer: the session id comes only from the answer to our initialize', () => {
    const state = new ClientSessionState({ meta: META });
    const sent = state.prepare(initialize).message as JSONRPCRequest;
    expect(state.receive(initializeResult, { SessionId: 'attacker' }).status).toBe('unmatched');
    expect(state.sessionId).toBeUndefined();
    state.receive({ ...initializeResult, id: sent.id } as JSONRPCMessage, { SessionId: 'genuine' });
    expect(state.sessionId).toBe('genuine');
  });

  it('names the wire id in a cancellation, and maps progress tokens both ways', () => {
    const state = established();
    const sent = state.prepare(toolsCall).message as JSONRPCRequest;
    const wireToken = (sent.params?._meta as { progressToken: unknown }).progressToken;
    expect(typeof wireToken).toBe('string');
    expect(wireToken).not.toBe(sent.id);
    const progress = (token: unknown): JSONRPCMessage => ({
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: token as string, progress: 1 },
    });
    expect(state.receive(progress(wireToken), { SessionId: 's-1' })).toEqual({
      status: 'deliver',
      message: progress(2),
    });
    expect(state.receive(progress(2), { SessionId: 's-1' }).status).toBe('unmatched');
    const cancel: JSONRPCMessage = {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 2, reason: 'user' },
    };
    expect(state.prepare(cancel).message).toEqual({
      ...cancel,
      params: { requestId: sent.id, reason: 'user' },
    });
    // A cancelled request is answered by no one; an answer for it now is not taken.
    expect(state.receive({ jsonrpc: '2.0', id: sent.id, result: {} }, { SessionId: 's-1' }).status).toBe(
      'unmatched',
    );
  });

  it('lets server requests and their answers through unchanged', () => {
    const state = established();
    const ping: JSONRPCMessage = { jsonrpc: '2.0', id: 7, method: 'ping' };
    expect(state.receive(ping, { SessionId: 's-1' })).toEqual({ status: 'deliver', message: ping });
    const pong: JSONRPCMessage = { jsonrpc: '2.0', id: 7, result: {} };
    expect(state.prepare(pong).message).toBe(pong);
  });

  it('forgets a request whose send failed', () => {
    const state = established();
    const sent = state.prepare(toolsList).message as JSONRPCRequest;
    expect(state.clientIdOf(sent.id)).toBe(1);
    state.discard(sent.id);
    expect(state.clientIdOf(sent.id)).toBeUndefined();
    expect(state.receive({ jsonrpc: '2.0', id: sent.id, result: {} }, { SessionId: 's-1' }).status).toBe(
      'unmatched',
    );
  });
});
