import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { isRequest } from './codec.js';
import type { ConnectableServer } from './contracts.js';
import { SESSION_DEFAULTS } from './defaults.js';
import type { DispatchResult, InboundMessage, Settlement } from './dispatch-contract.js';
import {
  DeliveryError,
  DestinationRefusedError,
  MessageTooLargeError,
  TransportStateError,
} from './errors.js';
import { sessionLogId } from './logger.js';
import { readMeta } from './meta.js';
import { SessionDispatcher, type SessionDispatcherOptions } from './session-dispatcher.js';
import { ManualClock } from './testing/manual-clock.js';
import { RecordingLogger } from './testing/recording-logger.js';
import { flush, RecordingSend, type Sent, track, within } from './testing/recording-send.js';

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

const PROTOCOL_VERSION = '2025-06-18';
const ADDRESS = 'https://sqs.local/000/client-a';

/** The recording `send`, and the answer to a request by id alone. */
class Outbox extends RecordingSend {
  /** The answer (result or error) with this id. */
  answer(id: RequestId): Promise<Sent> {
    return this.waitFor(
      ({ message }) => ('result' in message || 'error' in message) && message.id === id,
      `an answer to ${String(id)}`,
    );
  }
}

/**
 * A tiny ConnectableServer: answers every request with `{ echo: method }` (or a proper initialize result)
 * unless `hold` says to keep it for a manual `reply`.
 */
class FakeServer implements ConnectableServer {
  transport: Transport | undefined;
  readonly received: JSONRPCMessage[] = [];
  readonly sendErrors: unknown[] = [];
  closeCalls = 0;
  transportClosed = 0;

  constructor(readonly hold: (request: JSONRPCRequest) => boolean = () => false) {}

  async connect(transport: Transport): Promise<void> {
    this.transport = transport;
    transport.onmessage = (message) => {
      this.received.push(message);
      if (isRequest(message) && !this.hold(message)) void this.reply(message);
    };
    transport.onclose = () => {
      this.transportClosed++;
    };
    await transport.start();
  }

  reply(request: JSONRPCRequest, result?: Record<string, unknown>): Promise<void> {
    const body =
      result ??
      (request.method === 'initialize'
        ? { protocolVersion: PROTOCOL_VERSION, capabilities: {}, serverInfo: { name: 'fake', version: '1' } }
        : { echo: request.method });
    const transport = this.transport;
    if (!transport) throw new Error('not connected');
    return transport.send({ jsonrpc: '2.0', id: request.id, result: body }).catch((error: unknown) => {
      this.sendErrors.push(error);
    });
  }

  requests(method: string): JSONRPCRequest[] {
    return this.received.filter((m): m is JSONRPCRequest => isRequest(m) && m.method === method);
  }

  async close(): Promise<void> {
    this.closeCalls++;
  }
}

/** `address: null` leaves `_meta.responseQueueUrl` out. */
function initializeRequest(id: RequestId = 0, address: string | null = ADDRESS): JSONRPCRequest {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'test-client', version: '1.0.0' },
      ...(address === null ? {} : { _meta: { responseQueueUrl: address } }),
    },
  };
}

function inbound(message: JSONRPCMessage | string, attributes: Record<string, string> = {}): InboundMessage {
  return { body: typeof message === 'string' ? message : JSON.stringify(message), attributes };
}

function accepted<A>(result: DispatchResult<A>): Extract<DispatchResult<A>, { status: 'accepted' }> {
  if (result.status !== 'accepted') {
    throw new Error(`expected accepted, got ${result.reason}: ${result.error.error.message}`);
  }
  return result;
}

function rejected<A>(result: DispatchResult<A>): Extract<DispatchResult<A>, { status: 'rejected' }> {
  if (result.status !== 'rejected') throw new Error(`expected rejected, got accepted (${result.sessionId})`);
  return result;
}

function isErrorTo(id: RequestId | 'server-error') {
  return ({ message }: Sent): boolean => 'error' in message && message.id === id;
}

interface Harness {
  dispatcher: SessionDispatcher<string>;
  outbox: Outbox;
  servers: FakeServer[];
  opened: string[];
  closed: string[];
  /** Dispatches an initialize and waits for its answer; returns the new session id. */
  open: (options?: {
    id?: RequestId;
    address?: string;
    attributes?: Record<string, string>;
  }) => Promise<string>;
  /** Attributes of a client message for a session after initialize. */
  attrs: (sessionId: string) => Record<string, string>;
}

const dispatchers: SessionDispatcher<string>[] = [];

afterEach(async () => {
  for (const dispatcher of dispatchers.splice(0)) await dispatcher.close({ timeoutMs: 0 });
  vi.useRealTimers();
});

function harness(
  options: Partial<SessionDispatcherOptions<string>> & { hold?: (request: JSONRPCRequest) => boolean } = {},
): Harness {
  const outbox = new Outbox();
  const servers: FakeServer[] = [];
  const opened: string[] = [];
  const closed: string[] = [];
  const { hold, ...rest } = options;
  const dispatcher = new SessionDispatcher<string>({
    createServer: () => {
      const server = new FakeServer(hold);
      servers.push(server);
      return server;
    },
    addressOf: (initialize) => readMeta(initialize, 'responseQueueUrl'),
    addressDescription: '_meta.responseQueueUrl',
    send: outbox.send,
    onsessioninitialized: (id) => opened.push(id),
    onsessionclosed: (id) => closed.push(id),
    ...rest,
  });
  dispatchers.push(dispatcher);
  const open: Harness['open'] = async ({
    id = 0,
    address = ADDRESS,
    attributes = { ClientId: 'client-1' },
  } = {}) => {
    const result = accepted(await dispatcher.dispatch(inbound(initializeRequest(id, address), attributes)));
    expect(await within(result.settled, 'initialize settled')).toBe('answered');
    return result.sessionId;
  };
  const attrs = (sessionId: string) => ({
    SessionId: sessionId,
    ClientId: 'client-1',
    ProtocolVersion: PROTOCOL_VERSION,
  });
  return { dispatcher, outbox, servers, opened, closed, open, attrs };
}

/** Moves `clock` past the missing-address grace in steps, letting each retry's send run. */
async function passMissingAddressGrace(clock: ManualClock): Promise<void> {
  for (let passed = 0; passed <= SESSION_DEFAULTS.missingAddressGraceMs; passed += 100) {
    clock.advance(100);
    await flush();
  }
}

function isAnswerTo(id: string): (sent: Sent) => boolean {
  return ({ message }) => 'id' in message && message.id === id && !('method' in message);
}

// ---------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------

describe('SessionDispatcher: opening sessions', () => {
  it('opens a session on initialize with a minted 32-hex id and answers it', async () => {
    const { dispatcher, outbox, servers, opened } = harness();
    const result = accepted(
      await dispatcher.dispatch(inbound(initializeRequest(0), { ClientId: 'client-1' })),
    );
    expect(result.created).toBe(true);
    expect(result.sessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(result.address).toBe(ADDRESS);
    expect(await within(result.settled, 'settled')).toBe('answered');

    const answer = await outbox.answer(0);
    expect(answer.target).toEqual({ sessionId: result.sessionId, address: ADDRESS });
    expect('result' in answer.message && answer.message.result.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(servers).toHaveLength(1);
    expect(servers[0]?.requests('initialize')).toHaveLength(1);
    expect(opened).toEqual([result.sessionId]);
    expect(dispatcher.stats.sessionsOpened).toBe(1);
  });

  it('logs a session by its digest only, never by its id', async () => {
    const logger = new RecordingLogger();
    const { dispatcher, open } = harness({ logger });
    const sessionId = await open();
    await dispatcher.close({ timeoutMs: 0 });
    const opened = await logger.waitFor('session opened', 1000);
    const closed = await logger.waitFor('session closed', 1000);
    expect(opened.fields.sessionId).toBe(sessionLogId(sessionId));
    expect(closed.fields.sessionId).toBe(sessionLogId(sessionId));
    expect(JSON.stringify(logger.entries)).not.toContain(sessionId);
  });

  it('passes the original initialize (with its _meta) to the server', async () => {
    const { dispatcher, servers } = harness();
    const request = initializeRequest(3);
    accepted(await dispatcher.dispatch(inbound(request)));
    expect(servers[0]?.received[0]).toEqual(request);
  });

  it("mints a dashed UUID with sessionIdFormat 'uuid'", async () => {
    const { open } = harness({ sessionIdFormat: 'uuid' });
    const sessionId = await open();
    expect(sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('adopts a valid client-proposed SessionId', async () => {
    const { open, outbox, dispatcher } = harness();
    const sessionId = await open({ attributes: { SessionId: 'gw-proposed-1', ClientId: 'c' } });
    expect(sessionId).toBe('gw-proposed-1');
    expect((await outbox.answer(0)).target.sessionId).toBe('gw-proposed-1');
    expect(dispatcher.sessions.has('gw-proposed-1')).toBe(true);
  });

  it('mints an id when the proposed SessionId is invalid', async () => {
    const { open } = harness();
    const sessionId = await open({ attributes: { SessionId: 'not valid' } });
    expect(sessionId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('forwards an initialize naming a live session into that session', async () => {
    const { open, dispatcher, servers } = harness();
    const sessionId = await open();
    const again = accepted(
      await dispatcher.dispatch(inbound(initializeRequest(1), { SessionId: sessionId })),
    );
    expect(again.created).toBe(false);
    expect(again.sessionId).toBe(sessionId);
    expect(servers).toHaveLength(1);
    expect(servers[0]?.requests('initialize')).toHaveLength(2);
    expect(dispatcher.sessions.size).toBe(1);
  });

  it('reports clientId and protocolVersion in the sessions snapshot after initialize', async () => {
    const { open, dispatcher } = harness();
    const before = Date.now();
    const sessionId = await open({ attributes: { ClientId: 'client-xyz' } });
    const info = dispatcher.sessions.get(sessionId);
    expect(info).toMatchObject({ sessionId, clientId: 'client-xyz', protocolVersion: PROTOCOL_VERSION });
    expect(info?.createdAt).toBeGreaterThanOrEqual(before);
    expect(info?.lastActivityAt).toBeGreaterThanOrEqual(info?.createdAt ?? Number.POSITIVE_INFINITY);
  });

  it('gives every initialize without a proposal its own session', async () => {
    const { open, dispatcher, servers } = harness();
    const a = await open({ id: 0, address: 'addr-a' });
    const b = await open({ id: 0, address: 'addr-b' });
    expect(a).not.toBe(b);
    expect(servers).toHaveLength(2);
    expect(dispatcher.addressOf(a)).toBe('addr-a');
    expect(dispatcher.addressOf(b)).toBe('addr-b');
  });

  it("rejects an initialize without a reply address as 'missing-address' and sends nothing", async () => {
    const createServer = vi.fn(() => new FakeServer());
    const { dispatcher, outbox } = harness({ createServer });
    const result = rejected(await dispatcher.dispatch(inbound(initializeRequest(4, null))));
    expect(result.reason).toBe('missing-address');
    expect(result.replied).toBe(false);
    expect(result.error).toEqual({
      jsonrpc: '2.0',
      id: 4,
      error: { code: -32602, message: 'Validation error: initialize is missing _meta.responseQueueUrl' },
    });
    expect(outbox.attempts).toHaveLength(0);
    expect(createServer).not.toHaveBeenCalled();
    expect(dispatcher.sessions.size).toBe(0);
  });

  it("rejects an initialize, or a request for an unknown session, naming a refused destination as 'refused-destination' and sends nothing", async () => {
    const createServer = vi.fn(() => new FakeServer());
    const refuse = (initialize: JSONRPCRequest) => {
      const address = readMeta(initialize, 'responseQueueUrl');
      if (address?.startsWith('https://attacker.example/'))
        throw new DestinationRefusedError({ destination: address, reason: 'not our endpoint' });
      return address;
    };
    const { dispatcher, outbox } = harness({ createServer, addressOf: refuse });
    const result = rejected(
      await dispatcher.dispatch(inbound(initializeRequest(4, 'https://attacker.example/1/q'))),
    );
    expect(result.reason).toBe('refused-destination');
    expect(result.replied).toBe(false);
    expect(result.error.id).toBe(4);
    expect(result.error.error.message).toContain('not our endpoint');
    const unknown = rejected(
      await dispatcher.dispatch(
        inbound(
          {
            jsonrpc: '2.0',
            id: 5,
            method: 'tools/list',
            params: { _meta: { responseQueueUrl: 'https://attacker.example/1/q' } },
          },
          { SessionId: 'no-such-session' },
        ),
        { answerUnknownSession: true },
      ),
    );
    expect(unknown.reason).toBe('refused-destination');
    expect(unknown.replied).toBe(false);
    expect(outbox.attempts).toHaveLength(0);
    expect(createServer).not.toHaveBeenCalled();
    expect(dispatcher.sessions.size).toBe(0);
  });

  it("rejects beyond maxSessions as 'session-limit' and sends the error to the new client", async () => {
    const { open, dispatcher, outbox, servers } = harness({ maxSessions: 1 });
    await open({ address: 'addr-a' });
    const result = rejected(
      await dispatcher.dispatch(inbound(initializeRequest(7, 'addr-b'), { SessionId: 'second' })),
    );
    expect(result.reason).toBe('session-limit');
    expect(result.replied).toBe(true);
    expect(result.sessionId).toBe('second');
    expect(result.error).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32603, message: 'Internal error: too many sessions (limit 1)' },
    });
    const sent = await outbox.waitFor(isErrorTo(7), 'limit error');
    expect(sent.target).toEqual({ sessionId: 'second', address: 'addr-b' });
    expect(servers).toHaveLength(1);
    expect(dispatcher.sessions.size).toBe(1);
  });

  it("rejects as 'server-failed' when createServer throws, and sends the error", async () => {
    const { dispatcher, outbox, opened } = harness({
      createServer: () => {
        throw new Error('boom');
      },
    });
    const result = rejected(
      await dispatcher.dispatch(inbound(initializeRequest(2), { SessionId: 'proposed' })),
    );
    expect(result.reason).toBe('server-failed');
    expect(result.replied).toBe(true);
    expect(result.error).toEqual({
      jsonrpc: '2.0',
      id: 2,
      error: { code: -32603, message: 'Internal error: could not start a server for the session: boom' },
    });
    expect((await outbox.waitFor(isErrorTo(2), 'server-failed error')).target.address).toBe(ADDRESS);
    expect(dispatcher.sessions.size).toBe(0);
    expect(opened).toEqual([]);
  });

  it("rejects as 'server-failed' when the server's connect rejects", async () => {
    const { dispatcher } = harness({
      createServer: async () => ({
        connect: async () => {
          throw new Error('cannot connect');
        },
        close: async () => {},
      }),
    });
    const result = rejected(await dispatcher.dispatch(inbound(initializeRequest(2))));
    expect(result.reason).toBe('server-failed');
    expect(result.error.error.message).toBe(
      'Internal error: could not start a server for the session: cannot connect',
    );
  });

  it('answers a redelivered initialize that arrives while its session fails to start, instead of throwing', async () => {
    let fail!: (error: Error) => void;
    const { dispatcher } = harness({
      createServer: () =>
        new Promise<ConnectableServer>((_, reject) => {
          fail = reject;
        }),
    });
    const first = dispatcher.dispatch(inbound(initializeRequest(0), { SessionId: 'proposed-1' }));
    await flush();
    const redelivered = dispatcher.dispatch(inbound(initializeRequest(0), { SessionId: 'proposed-1' }));
    await flush();
    fail(new Error('boom'));
    const firstResult = rejected(await within(first, 'first dispatch'));
    expect(firstResult.reason).toBe('server-failed');
    const secondResult = rejected(await within(redelivered, 'redelivered dispatch'));
    expect(secondResult.reason).toBe('terminated-session');
    expect(secondResult.error).toEqual({
      jsonrpc: '2.0',
      id: 0,
      error: { code: -32600, message: 'Session has been terminated: proposed-1' },
    });
    expect(dispatcher.sessions.size).toBe(0);
  });

  it('skips a redelivered initialize that arrives while its session is still starting', async () => {
    let start!: (server: ConnectableServer) => void;
    const { dispatcher, outbox } = harness({
      createServer: () =>
        new Promise<ConnectableServer>((resolve) => {
          start = resolve;
        }),
    });
    const first = dispatcher.dispatch(inbound(initializeRequest(0), { SessionId: 'proposed-2' }));
    await flush();
    const redelivered = dispatcher.dispatch(inbound(initializeRequest(0), { SessionId: 'proposed-2' }));
    await flush();
    const server = new FakeServer();
    start(server);
    const results = [accepted(await within(first, 'first')), accepted(await within(redelivered, 'second'))];
    const settlements = await within(Promise.all(results.map((r) => r.settled)), 'settled');
    expect(settlements.sort()).toEqual(['answered', 'duplicate']);
    expect(server.requests('initialize')).toHaveLength(1);
    expect(outbox.sent.filter(({ message }) => 'result' in message && message.id === 0)).toHaveLength(1);
    expect(dispatcher.sessions.size).toBe(1);
  });
});

describe('SessionDispatcher: PROTOCOL.md §5 rejections', () => {
  const request = (id: RequestId, method = 'tools/list'): JSONRPCMessage => ({ jsonrpc: '2.0', id, method });

  async function expectRejected(
    h: Harness,
    message: InboundMessage,
    reason: string,
    error: JSONRPCErrorResponse,
    delivery: { replied: true; sessionId: string; address: string } | { replied: false },
  ): Promise<void> {
    const sentBefore = h.outbox.attempts.length;
    const result = rejected(await h.dispatcher.dispatch(message));
    expect(result.reason).toBe(reason);
    expect(result.error).toEqual(error);
    expect(result.replied).toBe(delivery.replied);
    if (delivery.replied) {
      const sent = h.outbox.sent.at(-1);
      expect(sent?.message).toEqual(error);
      expect(sent?.target).toEqual({ sessionId: delivery.sessionId, address: delivery.address });
      expect(h.outbox.attempts.length).toBe(sentBefore + 1);
    } else {
      expect(h.outbox.attempts.length).toBe(sentBefore);
    }
  }

  it('body not JSON: -32700 Parse error, sent to a live session', async () => {
    const h = harness();
    const sessionId = await h.open();
    const result = rejected(
      await h.dispatcher.dispatch(inbound('{"jsonrpc":"2.0","id":5,', h.attrs(sessionId))),
    );
    expect(result.reason).toBe('parse');
    expect(result.error.id).toBe('server-error');
    expect(result.error.error.code).toBe(-32700);
    expect(result.error.error.message.startsWith('Parse error: ')).toBe(true);
    expect(result.replied).toBe(true);
    expect(h.outbox.sent.at(-1)).toEqual({ message: result.error, target: { sessionId, address: ADDRESS } });
  });

  it('body not JSON without a session: rejected, not sent', async () => {
    const h = harness();
    const result = rejected(await h.dispatcher.dispatch(inbound('not json')));
    expect(result.reason).toBe('parse');
    expect(result.replied).toBe(false);
    expect(result.error.error.code).toBe(-32700);
    expect(h.outbox.attempts).toHaveLength(0);
  });

  it('non-UTF-8 bytes: parse error', async () => {
    const h = harness();
    const result = rejected(
      await h.dispatcher.dispatch({ body: new Uint8Array([0xff, 0xfe]), attributes: {} }),
    );
    expect(result.reason).toBe('parse');
    expect(result.error.error.message).toBe('Parse error: body is not valid UTF-8');
  });

  it('not a JSON-RPC message: -32602 Validation error with the request id, sent to a live session', async () => {
    const h = harness();
    const sessionId = await h.open();
    const body = '{"jsonrpc":"1.0","id":5,"method":"tools/list"}';
    const result = rejected(await h.dispatcher.dispatch(inbound(body, h.attrs(sessionId))));
    expect(result.reason).toBe('validation');
    expect(result.error).toEqual({
      jsonrpc: '2.0',
      id: 5,
      error: { code: -32602, message: 'Validation error: jsonrpc must be "2.0", got "1.0"' },
    });
    expect(result.replied).toBe(true);
    expect(h.outbox.sent.at(-1)?.target).toEqual({ sessionId, address: ADDRESS });
  });

  it('not a JSON-RPC message without a session: not sent', async () => {
    const h = harness();
    const result = rejected(await h.dispatcher.dispatch(inbound('[]')));
    expect(result.reason).toBe('validation');
    expect(result.error.id).toBe('server-error');
    expect(result.replied).toBe(false);
    expect(h.outbox.attempts).toHaveLength(0);
  });

  it('unsupported ProtocolVersion: -32600 with the supported list, sent to a live session', async () => {
    const h = harness();
    const sessionId = await h.open();
    await expectRejected(
      h,
      inbound(request(8), { SessionId: sessionId, ProtocolVersion: '1999-01-01' }),
      'protocol-version',
      {
        jsonrpc: '2.0',
        id: 8,
        error: {
          code: -32600,
          message: `Unsupported protocol version: 1999-01-01. Supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
        },
      },
      { replied: true, sessionId, address: ADDRESS },
    );
    expect(h.servers[0]?.requests('tools/list')).toHaveLength(0);
  });

  it('unsupported ProtocolVersion honours supportedProtocolVersions and is not sent without a session', async () => {
    const h = harness({ supportedProtocolVersions: ['2025-06-18', '2025-03-26'] });
    await expectRejected(
      h,
      inbound(request(1), { ProtocolVersion: '2024-11-05' }),
      'protocol-version',
      {
        jsonrpc: '2.0',
        id: 1,
        error: {
          code: -32600,
          message: 'Unsupported protocol version: 2024-11-05. Supported versions: 2025-06-18, 2025-03-26',
        },
      },
      { replied: false },
    );
  });

  it('accepts a message without ProtocolVersion (Python clients never send it)', async () => {
    const h = harness();
    const sessionId = await h.open();
    const result = accepted(await h.dispatcher.dispatch(inbound(request(1), { SessionId: sessionId })));
    expect(await within(result.settled, 'settled')).toBe('answered');
  });

  it('non-initialize message without a session id: Missing or invalid session ID, not sent', async () => {
    const h = harness();
    await h.open();
    await expectRejected(
      h,
      inbound(request(3), { ClientId: 'c' }),
      'missing-session',
      { jsonrpc: '2.0', id: 3, error: { code: -32600, message: 'Missing or invalid session ID' } },
      { replied: false },
    );
  });

  it('an empty SessionId counts as missing', async () => {
    const h = harness();
    await expectRejected(
      h,
      inbound(request('r'), { SessionId: '' }),
      'missing-session',
      { jsonrpc: '2.0', id: 'r', error: { code: -32600, message: 'Missing or invalid session ID' } },
      { replied: false },
    );
  });

  it('a notification without a session id gets "server-error" as its id', async () => {
    const h = harness();
    await expectRejected(
      h,
      inbound({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      'missing-session',
      {
        jsonrpc: '2.0',
        id: 'server-error',
        error: { code: -32600, message: 'Missing or invalid session ID' },
      },
      { replied: false },
    );
  });

  it('invalid session id format: Invalid session ID format: <id>, not sent', async () => {
    const h = harness();
    await expectRejected(
      h,
      inbound(request(4), { SessionId: 'bad id' }),
      'invalid-session',
      { jsonrpc: '2.0', id: 4, error: { code: -32600, message: 'Invalid session ID format: bad id' } },
      { replied: false },
    );
  });

  it('unknown session: Session not found: <id>, not sent', async () => {
    const h = harness();
    await h.open();
    await expectRejected(
      h,
      inbound(request(5), { SessionId: 'abc123' }),
      'unknown-session',
      { jsonrpc: '2.0', id: 5, error: { code: -32600, message: 'Session not found: abc123' } },
      { replied: false },
    );
  });

  it('terminated session: Session has been terminated: <id>, sent to its last address', async () => {
    const h = harness();
    const sessionId = await h.open();
    expect(await h.dispatcher.terminate(sessionId)).toBe(true);
    await expectRejected(
      h,
      inbound(request(6), h.attrs(sessionId)),
      'terminated-session',
      {
        jsonrpc: '2.0',
        id: 6,
        error: { code: -32600, message: `Session has been terminated: ${sessionId}` },
      },
      { replied: true, sessionId, address: ADDRESS },
    );
    expect(h.servers[0]?.requests('tools/list')).toHaveLength(0);
  });

  it('a parse error naming a terminated session is sent to its last address', async () => {
    const h = harness();
    const sessionId = await h.open();
    await h.dispatcher.terminate(sessionId);
    const result = rejected(await h.dispatcher.dispatch(inbound('{', { SessionId: sessionId })));
    expect(result.reason).toBe('parse');
    expect(result.replied).toBe(true);
    expect(h.outbox.sent.at(-1)?.target).toEqual({ sessionId, address: ADDRESS });
  });

  it('reports replied: false when sending the error fails', async () => {
    const h = harness();
    const sessionId = await h.open();
    h.outbox.fail = () => new Error('queue is gone');
    const result = rejected(await h.dispatcher.dispatch(inbound('{', { SessionId: sessionId })));
    expect(result.replied).toBe(false);
  });

  it('counts rejections', async () => {
    const h = harness();
    await h.dispatcher.dispatch(inbound('{'));
    await h.dispatcher.dispatch(inbound(request(1)));
    expect(h.dispatcher.stats.rejected).toBe(2);
  });
});

describe('SessionDispatcher: routing and settlement', () => {
  it("delivers a notification to its session and settles 'delivered'", async () => {
    const h = harness();
    const sessionId = await h.open();
    const notification: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
    const result = accepted(await h.dispatcher.dispatch(inbound(notification, h.attrs(sessionId))));
    expect(result.created).toBe(false);
    expect(await within(result.settled, 'settled')).toBe('delivered');
    expect(h.servers[0]?.received.at(-1)).toEqual(notification);
  });

  it("settles a cancelled request 'cancelled' at once, and an answer sent after it changes nothing", async () => {
    const h = harness({ hold: (request) => request.method === 'tools/call' });
    const sessionId = await h.open();
    const call = accepted(
      await h.dispatcher.dispatch(
        inbound(
          { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'slow' } },
          h.attrs(sessionId),
        ),
      ),
    );
    expect(h.dispatcher.inFlight).toBe(1);
    const cancel: JSONRPCMessage = {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 7, reason: 'aborted' },
    };
    const delivered = accepted(await h.dispatcher.dispatch(inbound(cancel, h.attrs(sessionId))));
    expect(await within(delivered.settled, 'cancel settled')).toBe('delivered');
    expect(await within(call.settled, 'call settled')).toBe('cancelled');
    expect(h.dispatcher.inFlight).toBe(0);
    // The server saw the cancellation, as MCP requires.
    expect(h.servers[0]?.received.at(-1)).toEqual(cancel);
    // A cancellation of a request that is not pending (already answered, or unknown) is delivered only.
    const stray = accepted(
      await h.dispatcher.dispatch(
        inbound({ ...cancel, params: { requestId: 'nope' } } as JSONRPCMessage, h.attrs(sessionId)),
      ),
    );
    expect(await within(stray.settled, 'stray settled')).toBe('delivered');
  });

  it("refuses a request beyond maxInFlightPerSession as 'session-busy', answering it at once; other sessions go on", async () => {
    const h = harness({ maxInFlightPerSession: 2, hold: (request) => request.method === 'tools/call' });
    const busy = await h.open({ address: 'addr-busy' });
    const other = await h.open({ address: 'addr-other', attributes: { ClientId: 'client-2' } });
    const call = (id: number, sessionId: string) =>
      h.dispatcher.dispatch(
        inbound({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow' } }, h.attrs(sessionId)),
      );
    accepted(await call(1, busy));
    accepted(await call(2, busy));
    const refused = rejected(await call(3, busy));
    expect(refused.reason).toBe('session-busy');
    expect(refused.replied).toBe(true);
    expect(refused.error).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: {
        code: -32603,
        message: 'Too many requests running in this session (limit 2): wait for one to finish, then retry',
        data: { reason: 'session-busy', limit: 2 },
      },
    });
    const sent = await h.outbox.waitFor(isErrorTo(3), 'busy error');
    expect(sent.target).toEqual({ sessionId: busy, address: 'addr-busy' });
    expect(h.servers[0]?.requests('tools/call').map((request) => request.id)).toEqual([1, 2]);
    expect(h.dispatcher.inFlight).toBe(2);
    // Another session is not held back by the busy one.
    accepted(await call(1, other));
    expect(h.dispatcher.inFlight).toBe(3);
    // A redelivery of a running request is still a duplicate, not a refusal.
    expect(accepted(await call(2, busy)).status).toBe('accepted');
    // Once one ends, the session may start another.
    await h.servers[0]?.reply(h.servers[0].requests('tools/call')[0]!);
    accepted(await call(4, busy));
  });

  it('holds at most SESSION_DEFAULTS.maxSessions sessions, and closes idle ones after SESSION_DEFAULTS.sessionIdleTimeoutMs, by default', async () => {
    const clock = new ManualClock();
    const h = harness({ clock });
    const first = await h.open({ id: 0, address: 'addr-0', attributes: { SessionId: 'default-0' } });
    for (let i = 1; i < SESSION_DEFAULTS.maxSessions; i++) {
      accepted(
        await h.dispatcher.dispatch(
          inbound(initializeRequest(i, `addr-${i}`), { SessionId: `default-${i}` }),
        ),
      );
    }
    expect(h.dispatcher.sessions.size).toBe(SESSION_DEFAULTS.maxSessions);
    const refused = rejected(
      await h.dispatcher.dispatch(
        inbound(initializeRequest(9_999, 'addr-late'), { SessionId: 'one-too-many' }),
      ),
    );
    expect(refused.reason).toBe('session-limit');
    clock.advance(SESSION_DEFAULTS.sessionIdleTimeoutMs - 1);
    await flush();
    expect(h.dispatcher.sessions.has(first)).toBe(true);
    clock.advance(60_000);
    await flush();
    expect(h.dispatcher.sessions.size).toBe(0);
  });

  it('limits each session to SESSION_DEFAULTS.maxInFlightPerSession running requests by default', async () => {
    const h = harness({ hold: (request) => request.method === 'tools/call' });
    const sessionId = await h.open();
    const results = [];
    for (let id = 1; id <= SESSION_DEFAULTS.maxInFlightPerSession + 1; id++) {
      results.push(
        await h.dispatcher.dispatch(
          inbound({ jsonrpc: '2.0', id, method: 'tools/call', params: {} }, h.attrs(sessionId)),
        ),
      );
    }
    expect(results.filter((result) => result.status === 'accepted')).toHaveLength(
      SESSION_DEFAULTS.maxInFlightPerSession,
    );
    expect(rejected(results.at(-1)!).reason).toBe('session-busy');
  });

  it('never runs a request whose cancellation arrived first', async () => {
    const h = harness({ hold: (request) => request.method === 'tools/call' });
    const sessionId = await h.open();
    const cancel: JSONRPCMessage = {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 9, reason: 'aborted' },
    };
    accepted(await h.dispatcher.dispatch(inbound(cancel, h.attrs(sessionId))));
    const late = accepted(
      await h.dispatcher.dispatch(
        inbound(
          { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'slow' } },
          h.attrs(sessionId),
        ),
      ),
    );
    expect(await within(late.settled, 'late request settled')).toBe('duplicate');
    expect(h.servers[0]?.requests('tools/call')).toEqual([]);
    expect(h.dispatcher.inFlight).toBe(0);
  });

  it("delivers a client's answer to a server→client request", async () => {
    const h = harness();
    const sessionId = await h.open();
    const answer: JSONRPCMessage = { jsonrpc: '2.0', id: 0, result: { roots: [] } };
    const result = accepted(await h.dispatcher.dispatch(inbound(answer, h.attrs(sessionId))));
    expect(await within(result.settled, 'settled')).toBe('delivered');
    expect(h.servers[0]?.received.at(-1)).toEqual(answer);
  });

  it("routes requests to their own session and settles 'answered'", async () => {
    const h = harness();
    const a = await h.open({ address: 'addr-a' });
    const b = await h.open({ address: 'addr-b' });
    const request: JSONRPCMessage = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    const ra = accepted(await h.dispatcher.dispatch(inbound(request, h.attrs(a))));
    const rb = accepted(await h.dispatcher.dispatch(inbound(request, h.attrs(b))));
    expect(await within(ra.settled, 'a settled')).toBe('answered');
    expect(await within(rb.settled, 'b settled')).toBe('answered');
    const answers = h.outbox.sent.filter(({ message }) => 'result' in message && message.id === 1);
    expect(answers.map(({ target }) => target)).toEqual([
      { sessionId: a, address: 'addr-a' },
      { sessionId: b, address: 'addr-b' },
    ]);
    expect(h.servers[0]?.requests('tools/list')).toHaveLength(1);
    expect(h.servers[1]?.requests('tools/list')).toHaveLength(1);
  });

  it("resolves settled 'answered' only after the answer has been sent", async () => {
    const h = harness();
    const sessionId = await h.open();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.outbox.gate = (message) => ('result' in message && message.id === 9 ? gate : undefined);
    const result = accepted(
      await h.dispatcher.dispatch(
        inbound({ jsonrpc: '2.0', id: 9, method: 'tools/list' }, h.attrs(sessionId)),
      ),
    );
    const settled = track(result.settled);
    await flush();
    expect(h.outbox.attempts.some(({ message }) => 'result' in message && message.id === 9)).toBe(true);
    expect(settled.done()).toBe(false);
    expect(h.dispatcher.inFlight).toBe(1);
    release();
    expect(await within(result.settled, 'settled')).toBe('answered');
    expect(h.outbox.sent.some(({ message }) => 'result' in message && message.id === 9)).toBe(true);
    expect(h.dispatcher.inFlight).toBe(0);
  });

  it('does not settle a request the server has not answered', async () => {
    const h = harness({ hold: (request) => request.method === 'tools/call' });
    const sessionId = await h.open();
    const result = accepted(
      await h.dispatcher.dispatch(
        inbound({ jsonrpc: '2.0', id: 1, method: 'tools/call' }, h.attrs(sessionId)),
      ),
    );
    const settled = track(result.settled);
    await flush();
    expect(settled.done()).toBe(false);
    expect(h.dispatcher.inFlight).toBe(1);
    const request = h.servers[0]?.requests('tools/call')[0];
    if (!request) throw new Error('server did not receive the request');
    await h.servers[0]?.reply(request);
    expect(await within(result.settled, 'settled')).toBe('answered');
  });

  it('a request whose answer fails to send settles failed, and a redelivery runs it again', async () => {
    const h = harness();
    const sessionId = await h.open();
    h.outbox.fail = (message) =>
      'result' in message && message.id === 2 ? new Error('throttled') : undefined;
    const request: JSONRPCMessage = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
    const first = accepted(await h.dispatcher.dispatch(inbound(request, h.attrs(sessionId))));
    expect(await within(first.settled, 'first settled')).toBe<Settlement>('failed');
    h.outbox.fail = undefined;
    const second = accepted(await h.dispatcher.dispatch(inbound(request, h.attrs(sessionId))));
    expect(await within(second.settled, 'second settled')).toBe('answered');
    expect(h.servers[0]?.requests('tools/list')).toHaveLength(2);
  });

  it("ends the session when its client's address no longer exists, and only that session", async () => {
    const clock = new ManualClock(0);
    const h = harness({ clock });
    const gone = await h.open({ address: 'https://sqs.local/000/deleted' });
    const kept = await h.open({ id: 'k', address: ADDRESS });
    h.outbox.fail = (message) =>
      'result' in message && message.id === 2
        ? new DeliveryError({ message: 'queue does not exist', destinationGone: true })
        : undefined;
    const request: JSONRPCMessage = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
    const result = accepted(await h.dispatcher.dispatch(inbound(request, h.attrs(gone))));
    // Still missing when the grace is over: nothing is retried any more for a client nobody reads; its
    // server is closed and its running request settled.
    await passMissingAddressGrace(clock);
    expect(await within(result.settled, 'settled')).toBe<Settlement>('session-closed');
    await within(
      new Promise<void>((resolve) => {
        const check = () => (h.closed.includes(gone) ? resolve() : setImmediate(check));
        check();
      }),
      'the session closing',
    );
    expect(h.servers[0]?.closeCalls).toBe(1);
    expect(h.dispatcher.sessions.has(gone)).toBe(false);
    expect(h.dispatcher.stats.clientsGone).toBe(1);
    // A failure that is not a missing address leaves the session as it is.
    h.outbox.fail = (message) =>
      'result' in message && message.id === 3 ? new DeliveryError({ message: 'throttled' }) : undefined;
    const other = accepted(
      await h.dispatcher.dispatch(inbound({ jsonrpc: '2.0', id: 3, method: 'tools/list' }, h.attrs(kept))),
    );
    expect(await within(other.settled, 'other settled')).toBe<Settlement>('failed');
    expect(h.dispatcher.sessions.has(kept)).toBe(true);
  });

  it("ends the session when a notice to it finds the client's address gone", async () => {
    const clock = new ManualClock(0);
    const h = harness({ clock });
    const sessionId = await h.open();
    h.outbox.fail = () => new DeliveryError({ message: 'topic does not exist', destinationGone: true });
    const notified = h.dispatcher.notify(sessionId, {
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: {},
    });
    await passMissingAddressGrace(clock);
    expect(await notified).toBe(false);
    await within(
      new Promise<void>((resolve) => {
        const check = () => (h.closed.includes(sessionId) ? resolve() : setImmediate(check));
        check();
      }),
      'the session closing',
    );
    expect(h.dispatcher.stats.clientsGone).toBe(1);
  });

  it('gives an address the session reached time to be made again: the queue service lost it', async () => {
    const clock = new ManualClock(0);
    const h = harness({ clock });
    const sessionId = await h.open();
    let missing = true;
    h.outbox.fail = () =>
      missing ? new DeliveryError({ message: 'queue does not exist', destinationGone: true }) : undefined;
    const request: JSONRPCMessage = { jsonrpc: '2.0', id: 'r', method: 'tools/list' };
    const result = accepted(await h.dispatcher.dispatch(inbound(request, h.attrs(sessionId))));
    const settled = track(result.settled);
    // Tried, and tried again while the grace lasts; then its owner makes the queue again.
    for (let step = 0; step < 20 && h.outbox.attempts.filter(isAnswerTo('r')).length < 3; step++) {
      clock.advance(100);
      await flush();
    }
    expect(h.outbox.attempts.filter(isAnswerTo('r')).length).toBeGreaterThanOrEqual(3);
    expect(settled.done()).toBe(false);
    missing = false;
    await passMissingAddressGrace(clock);
    expect(await within(result.settled, 'settled')).toBe<Settlement>('answered');
    expect(h.outbox.sent.filter(isAnswerTo('r'))).toHaveLength(1);
    expect(h.dispatcher.sessions.has(sessionId)).toBe(true);
    expect(h.dispatcher.stats.clientsGone).toBe(0);
  });

  it('gives an address nothing ever reached no time: a sender naming a missing queue ties nothing up', async () => {
    const clock = new ManualClock(0);
    const h = harness({ clock });
    h.outbox.fail = () => new DeliveryError({ message: 'queue does not exist', destinationGone: true });
    const result = accepted(
      await h.dispatcher.dispatch(inbound(initializeRequest(0, 'https://sqs.local/000/never-made'), {})),
    );
    // Settled without the clock moving: one try, no grace.
    expect(await within(result.settled, 'initialize settled')).toBe<Settlement>('session-closed');
    expect(h.outbox.attempts).toHaveLength(1);
    expect(h.dispatcher.stats.clientsGone).toBe(1);
  });
});

describe('SessionDispatcher: a fleet of gateways in front (PROTOCOL.md §7b)', () => {
  const OTHER = 'https://sqs.local/000/instance-b';
  const withAddress = (request: JSONRPCRequest, address: string): JSONRPCRequest => ({
    ...request,
    params: { ...request.params, _meta: { responseQueueUrl: address } },
  });
  const listening = (address: string): JSONRPCMessage => ({
    jsonrpc: '2.0',
    method: 'notifications/asyncmcp/listening',
    params: { _meta: { responseQueueUrl: address } },
  });
  const notice: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/message', params: { data: 'x' } };

  it('answers each request where it names, and what belongs to no request where the session listens', async () => {
    const h = harness();
    const sessionId = await h.open();
    const fromB = withAddress({ jsonrpc: '2.0', id: 'b1', method: 'tools/list' }, OTHER);
    accepted(await h.dispatcher.dispatch(inbound(fromB, h.attrs(sessionId))));
    expect((await h.outbox.answer('b1')).target.address).toBe(OTHER);
    const fromA = { jsonrpc: '2.0' as const, id: 'a1', method: 'tools/list' };
    accepted(await h.dispatcher.dispatch(inbound(fromA, h.attrs(sessionId))));
    expect((await h.outbox.answer('a1')).target.address).toBe(ADDRESS);
    expect(await h.dispatcher.notify(sessionId, notice)).toBe(true);
    expect(h.outbox.sent.at(-1)?.target.address).toBe(ADDRESS);
  });

  it('sends what belongs to no request to the address a listening notification names, from then on', async () => {
    const h = harness();
    const sessionId = await h.open();
    const result = accepted(await h.dispatcher.dispatch(inbound(listening(OTHER), h.attrs(sessionId))));
    expect(await within(result.settled, 'listening settled')).toBe('delivered');
    expect(await h.dispatcher.notify(sessionId, notice)).toBe(true);
    expect(h.outbox.sent.at(-1)?.target.address).toBe(OTHER);
    // It is ours, not the server's: the MCP server never sees it.
    expect(
      h.servers[0]?.received.some((m) => 'method' in m && m.method.startsWith('notifications/asyncmcp/')),
    ).toBe(false);
  });

  it('ignores a listening notification naming a destination it will not send to', async () => {
    const h = harness({
      addressOf: (message) => {
        const address = readMeta(message, 'responseQueueUrl');
        if (address?.includes('evil')) {
          throw new DestinationRefusedError({ destination: address, reason: 'not ours' });
        }
        return address;
      },
    });
    const sessionId = await h.open();
    const result = rejected(
      await h.dispatcher.dispatch(inbound(listening('https://evil.example/000/q'), h.attrs(sessionId))),
    );
    expect(result.reason).toBe('refused-destination');
    expect(await h.dispatcher.notify(sessionId, notice)).toBe(true);
    expect(h.outbox.sent.at(-1)?.target.address).toBe(ADDRESS);
  });

  it('keeps a session whose listening address is gone while another instance still sends its requests', async () => {
    const clock = new ManualClock(0);
    const h = harness({ clock });
    const sessionId = await h.open();
    const fromB = withAddress({ jsonrpc: '2.0', id: 'b1', method: 'tools/list' }, OTHER);
    accepted(await h.dispatcher.dispatch(inbound(fromB, h.attrs(sessionId))));
    await h.outbox.answer('b1');
    h.outbox.fail = (_message, address) =>
      address === ADDRESS
        ? new DeliveryError({ message: 'queue does not exist', destinationGone: true })
        : undefined;
    // The opener's queue is gone for good: the session goes on, listening where its last request came from.
    const notified = h.dispatcher.notify(sessionId, notice);
    await passMissingAddressGrace(clock);
    expect(await notified).toBe(false);
    expect(h.dispatcher.sessions.has(sessionId)).toBe(true);
    expect(h.dispatcher.stats.clientsGone).toBe(0);
    expect(await h.dispatcher.notify(sessionId, notice)).toBe(true);
    expect(h.outbox.sent.at(-1)?.target.address).toBe(OTHER);
  });
});

describe('SessionDispatcher: redelivery (PROTOCOL.md §6)', () => {
  it('skips a redelivered request while it is in flight; both settle once it is answered', async () => {
    const h = harness({ hold: (request) => request.method === 'tools/call' });
    const sessionId = await h.open();
    const request: JSONRPCMessage = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } };
    const first = accepted(await h.dispatcher.dispatch(inbound(request, h.attrs(sessionId))));
    const second = accepted(await h.dispatcher.dispatch(inbound(request, h.attrs(sessionId))));
    const secondSettled = track(second.settled);
    await flush();
    expect(secondSettled.done()).toBe(false);
    expect(h.servers[0]?.requests('tools/call')).toHaveLength(1);
    expect(h.dispatcher.stats.duplicates).toBe(1);

    const held = h.servers[0]?.requests('tools/call')[0];
    if (!held) throw new Error('no request');
    await h.servers[0]?.reply(held);
    expect(await within(first.settled, 'first settled')).toBe('answered');
    expect(await within(second.settled, 'second settled')).toBe('duplicate');
    expect(h.servers[0]?.requests('tools/call')).toHaveLength(1);
    const answers = h.outbox.sent.filter(({ message }) => 'result' in message && message.id === 1);
    expect(answers).toHaveLength(1);
  });

  it("skips a redelivered request after it was answered, settling 'duplicate' at once", async () => {
    const h = harness();
    const sessionId = await h.open();
    const request: JSONRPCMessage = { jsonrpc: '2.0', id: 'req-1', method: 'tools/list' };
    const first = accepted(await h.dispatcher.dispatch(inbound(request, h.attrs(sessionId))));
    expect(await within(first.settled, 'first')).toBe('answered');
    const again = accepted(await h.dispatcher.dispatch(inbound(request, h.attrs(sessionId))));
    expect(await within(again.settled, 'again')).toBe('duplicate');
    expect(h.servers[0]?.requests('tools/list')).toHaveLength(1);
    expect(h.outbox.sent.filter(({ message }) => 'result' in message && message.id === 'req-1')).toHaveLength(
      1,
    );
  });

  it('treats the same id in another session, or a numeric vs string id, as distinct', async () => {
    const h = harness();
    const a = await h.open({ address: 'addr-a' });
    const b = await h.open({ address: 'addr-b' });
    const results = [
      await h.dispatcher.dispatch(inbound({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, h.attrs(a))),
      await h.dispatcher.dispatch(inbound({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, h.attrs(b))),
      await h.dispatcher.dispatch(inbound({ jsonrpc: '2.0', id: '1', method: 'tools/list' }, h.attrs(a))),
    ];
    for (const result of results) expect(await within(accepted(result).settled, 'settled')).toBe('answered');
    expect(h.dispatcher.stats.duplicates).toBe(0);
  });

  it('does not dedupe notifications', async () => {
    const h = harness();
    const sessionId = await h.open();
    const notification: JSONRPCMessage = {
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: 1, progress: 1 },
    };
    await h.dispatcher.dispatch(inbound(notification, h.attrs(sessionId)));
    await h.dispatcher.dispatch(inbound(notification, h.attrs(sessionId)));
    expect(
      h.servers[0]?.received.filter((m) => 'method' in m && m.method === 'notifications/progress'),
    ).toHaveLength(2);
  });
});

describe('SessionDispatcher: oversize answers', () => {
  it('replaces an answer that is too large with a -32603 Internal error carrying the same id', async () => {
    const h = harness();
    const sessionId = await h.open();
    const tooLarge = new MessageTooLargeError({ size: 2_000_000, limit: 1_048_576, channel: 'SQS' });
    h.outbox.fail = (message) => ('result' in message && message.id === 11 ? tooLarge : undefined);
    const result = accepted(
      await h.dispatcher.dispatch(
        inbound({ jsonrpc: '2.0', id: 11, method: 'tools/list' }, h.attrs(sessionId)),
      ),
    );
    expect(await within(result.settled, 'settled')).toBe('answered');
    const sent = await h.outbox.waitFor(isErrorTo(11), 'replacement error');
    expect(sent.message).toEqual({
      jsonrpc: '2.0',
      id: 11,
      error: {
        code: -32603,
        message: 'Internal error: Message of 2000000 bytes exceeds the SQS limit of 1048576 bytes',
      },
    });
    expect(sent.target).toEqual({ sessionId, address: ADDRESS, relatedRequestId: undefined });
    expect(h.outbox.sent.some(({ message }) => 'result' in message && message.id === 11)).toBe(false);
    expect(h.servers[0]?.sendErrors).toEqual([]);
  });

  it('replaces an answer the channel refuses for good with an error, but leaves a retryable failure to retry', async () => {
    const h = harness();
    const sessionId = await h.open();
    const refused = new DeliveryError({ message: 'Invalid characters found', isRetryable: false });
    const flaky = new DeliveryError({ message: 'connection reset', isRetryable: true });
    h.outbox.fail = (message) =>
      'result' in message && message.id === 21
        ? refused
        : 'result' in message && message.id === 22
          ? flaky
          : undefined;
    const first = accepted(
      await h.dispatcher.dispatch(
        inbound({ jsonrpc: '2.0', id: 21, method: 'tools/list' }, h.attrs(sessionId)),
      ),
    );
    expect(await within(first.settled, 'settled')).toBe('answered');
    const sent = await h.outbox.waitFor(isErrorTo(21), 'replacement error');
    expect(sent.message).toMatchObject({
      id: 21,
      error: { code: -32603, message: 'Internal error: Invalid characters found' },
    });
    const second = accepted(
      await h.dispatcher.dispatch(
        inbound({ jsonrpc: '2.0', id: 22, method: 'tools/list' }, h.attrs(sessionId)),
      ),
    );
    expect(await within(second.settled, 'settled')).toBe('failed');
  });

  it('settles failed and reports the error to the server when the replacement cannot be sent either', async () => {
    const h = harness();
    const sessionId = await h.open();
    h.outbox.fail = (message) =>
      'id' in message && message.id === 12
        ? new MessageTooLargeError({ size: 10, limit: 1, channel: 'SNS' })
        : undefined;
    const result = accepted(
      await h.dispatcher.dispatch(
        inbound({ jsonrpc: '2.0', id: 12, method: 'tools/list' }, h.attrs(sessionId)),
      ),
    );
    expect(await within(result.settled, 'settled')).toBe('failed');
    expect(h.servers[0]?.sendErrors).toHaveLength(1);
  });

  it('passes a too-large server notification error back to the server', async () => {
    const h = harness();
    const sessionId = await h.open();
    h.outbox.fail = (message) =>
      'method' in message ? new MessageTooLargeError({ size: 10, limit: 1, channel: 'SQS' }) : undefined;
    const transport = h.servers[0]?.transport;
    if (!transport) throw new Error('not connected');
    await expect(
      transport.send({
        jsonrpc: '2.0',
        method: 'notifications/message',
        params: { level: 'info', data: 'x' },
      }),
    ).rejects.toBeInstanceOf(MessageTooLargeError);
    expect(h.outbox.sent.some(({ message }) => 'error' in message)).toBe(false);
    expect(h.dispatcher.sessions.has(sessionId)).toBe(true);
  });
});

describe('SessionDispatcher: ending sessions', () => {
  it('terminate() closes the server and calls onsessionclosed; later messages get the terminated error', async () => {
    const h = harness();
    const sessionId = await h.open();
    expect(await h.dispatcher.terminate(sessionId)).toBe(true);
    expect(h.servers[0]?.closeCalls).toBe(1);
    expect(h.servers[0]?.transportClosed).toBe(1);
    expect(h.closed).toEqual([sessionId]);
    expect(h.dispatcher.sessions.has(sessionId)).toBe(false);
    expect(h.dispatcher.addressOf(sessionId)).toBe(ADDRESS);
    const result = rejected(
      await h.dispatcher.dispatch(inbound({ jsonrpc: '2.0', id: 20, method: 'ping' }, h.attrs(sessionId))),
    );
    expect(result.error.error.message).toBe(`Session has been terminated: ${sessionId}`);
    expect(result.error.id).toBe(20);
    expect(await h.dispatcher.terminate(sessionId)).toBe(false);
    expect(await h.dispatcher.terminate('never-existed')).toBe(false);
    expect(h.dispatcher.stats.sessionsClosed).toBe(1);
  });

  it("settles a request in flight at terminate() as 'session-closed'", async () => {
    const h = harness({ hold: (request) => request.method === 'tools/call' });
    const sessionId = await h.open();
    const result = accepted(
      await h.dispatcher.dispatch(
        inbound({ jsonrpc: '2.0', id: 1, method: 'tools/call' }, h.attrs(sessionId)),
      ),
    );
    expect(h.dispatcher.inFlight).toBe(1);
    await h.dispatcher.terminate(sessionId);
    expect(await within(result.settled, 'settled')).toBe('session-closed');
    expect(h.dispatcher.inFlight).toBe(0);
  });

  it('a new initialize may reuse a terminated id', async () => {
    const h = harness();
    const first = await h.open({ attributes: { SessionId: 'reused' } });
    await h.dispatcher.terminate(first);
    const second = await h.open({ id: 1, attributes: { SessionId: 'reused' } });
    expect(second).toBe('reused');
    expect(h.servers).toHaveLength(2);
    expect(h.dispatcher.sessions.has('reused')).toBe(true);
  });

  it('ends the session when its server closes the transport', async () => {
    const h = harness();
    const sessionId = await h.open();
    const transport = h.servers[0]?.transport;
    if (!transport) throw new Error('not connected');
    await transport.close();
    expect(h.closed).toEqual([sessionId]);
    expect(h.servers[0]?.transportClosed).toBe(1);
    expect(h.dispatcher.sessions.size).toBe(0);
    await expect(transport.send({ jsonrpc: '2.0', method: 'notifications/x' })).rejects.toBeInstanceOf(
      TransportStateError,
    );
  });

  it('addressOf is undefined for an unknown session', () => {
    const h = harness();
    expect(h.dispatcher.addressOf('nope')).toBeUndefined();
  });

  it('close() waits for in-flight requests, rejects new messages, then closes every session', async () => {
    const h = harness({ hold: (request) => request.method === 'tools/call' });
    const a = await h.open({ address: 'addr-a' });
    const b = await h.open({ address: 'addr-b' });
    const result = accepted(
      await h.dispatcher.dispatch(inbound({ jsonrpc: '2.0', id: 1, method: 'tools/call' }, h.attrs(a))),
    );
    const closePromise = h.dispatcher.close();
    const closing = track(closePromise);
    await flush();
    expect(closing.done()).toBe(false);
    expect(h.closed).toEqual([]);

    const late = rejected(await h.dispatcher.dispatch(inbound(initializeRequest(5, 'addr-c'))));
    expect(late.reason).toBe('closing');
    expect(late.error.error.message).toBe('Internal error: server is shutting down');

    const held = h.servers[0]?.requests('tools/call')[0];
    if (!held) throw new Error('no request');
    await h.servers[0]?.reply(held);
    expect(await within(result.settled, 'settled')).toBe('answered');
    await within(closePromise, 'close()');
    expect(h.closed.sort()).toEqual([a, b].sort());
    expect(h.servers.map((server) => server.closeCalls)).toEqual([1, 1]);
    expect(h.dispatcher.sessions.size).toBe(0);
  });

  it("close() gives up on in-flight requests at its deadline and settles them 'session-closed'", async () => {
    const h = harness({ hold: (request) => request.method === 'tools/call' });
    const sessionId = await h.open();
    const result = accepted(
      await h.dispatcher.dispatch(
        inbound({ jsonrpc: '2.0', id: 1, method: 'tools/call' }, h.attrs(sessionId)),
      ),
    );
    await within(h.dispatcher.close({ timeoutMs: 0 }), 'close()');
    expect(await within(result.settled, 'settled')).toBe('session-closed');
    expect(h.closed).toEqual([sessionId]);
  });
});

describe('SessionDispatcher: idle eviction', () => {
  it('evicts an idle session but not one with a running request', async () => {
    const clock = new ManualClock();
    const h = harness({
      sessionIdleTimeoutMs: 1_000,
      clock,
      hold: (request) => request.method === 'tools/call',
    });
    const idle = await h.open({ address: 'addr-idle' });
    const busy = await h.open({ address: 'addr-busy' });
    const running = accepted(
      await h.dispatcher.dispatch(inbound({ jsonrpc: '2.0', id: 1, method: 'tools/call' }, h.attrs(busy))),
    );
    clock.advance(5_000);
    await flush();
    expect(h.closed).toEqual([idle]);
    expect(h.dispatcher.sessions.has(busy)).toBe(true);
    const held = h.servers[1]?.requests('tools/call')[0];
    if (!held) throw new Error('no request');
    await h.servers[1]?.reply(held);
    expect(await within(running.settled, 'settled')).toBe('answered');
    clock.advance(5_000);
    await flush();
    expect(h.closed).toEqual([idle, busy]);
  });
});

describe('SessionDispatcher with a real McpServer', () => {
  function createMcpServer(): McpServer {
    const server = new McpServer({ name: 'test-server', version: '1.0.0' });
    server.registerTool(
      'echo',
      { description: 'Echoes its input', inputSchema: { text: z.string() } },
      async ({ text }) => ({ content: [{ type: 'text', text }] }),
    );
    return server;
  }

  it('initializes, lists and calls a tool, and closes', async () => {
    const outbox = new Outbox();
    const opened: string[] = [];
    const closed: string[] = [];
    const dispatcher = new SessionDispatcher<string>({
      createServer: createMcpServer,
      addressOf: (initialize) => readMeta(initialize, 'responseQueueUrl'),
      addressDescription: '_meta.responseQueueUrl',
      send: outbox.send,
      onsessioninitialized: (id) => opened.push(id),
      onsessionclosed: (id) => closed.push(id),
    });
    dispatchers.push(dispatcher);

    const init = accepted(
      await dispatcher.dispatch(inbound(initializeRequest(0), { ClientId: 'real-client' })),
    );
    expect(await within(init.settled, 'initialize settled')).toBe('answered');
    const initAnswer = await outbox.answer(0);
    expect('result' in initAnswer.message && initAnswer.message.result.protocolVersion).toBe(
      PROTOCOL_VERSION,
    );
    const sessionId = init.sessionId;
    expect(opened).toEqual([sessionId]);
    expect(dispatcher.sessions.get(sessionId)).toMatchObject({
      clientId: 'real-client',
      protocolVersion: PROTOCOL_VERSION,
    });

    const attributes = { SessionId: sessionId, ClientId: 'real-client', ProtocolVersion: PROTOCOL_VERSION };
    const initialized = accepted(
      await dispatcher.dispatch(inbound({ jsonrpc: '2.0', method: 'notifications/initialized' }, attributes)),
    );
    expect(await within(initialized.settled, 'initialized')).toBe('delivered');

    const list = accepted(
      await dispatcher.dispatch(inbound({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, attributes)),
    );
    expect(await within(list.settled, 'tools/list')).toBe('answered');
    const listAnswer = (await outbox.answer(1)).message;
    expect('result' in listAnswer && listAnswer.result.tools).toEqual([
      expect.objectContaining({ name: 'echo', description: 'Echoes its input' }),
    ]);

    const call = accepted(
      await dispatcher.dispatch(
        inbound(
          {
            jsonrpc: '2.0',
            id: 2,
            method: 'tools/call',
            params: { name: 'echo', arguments: { text: 'hello' } },
          },
          attributes,
        ),
      ),
    );
    expect(await within(call.settled, 'tools/call')).toBe('answered');
    const callAnswer = await outbox.answer(2);
    expect(callAnswer.target).toEqual({ sessionId, address: ADDRESS });
    expect('result' in callAnswer.message && callAnswer.message.result.content).toEqual([
      { type: 'text', text: 'hello' },
    ]);

    const unknownTool = accepted(
      await dispatcher.dispatch(inbound({ jsonrpc: '2.0', id: 3, method: 'nope/unknown' }, attributes)),
    );
    expect(await within(unknownTool.settled, 'unknown method')).toBe('answered');
    const unknownAnswer = (await outbox.answer(3)).message;
    expect('error' in unknownAnswer && unknownAnswer.error.code).toBe(-32601);

    await within(dispatcher.close(), 'close()');
    expect(closed).toEqual([sessionId]);
    expect(dispatcher.sessions.size).toBe(0);
  });
});
