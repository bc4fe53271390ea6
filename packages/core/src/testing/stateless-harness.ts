import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { DispatchResult, InboundMessage } from '../dispatch-contract.js';
import { RequestMetaKey, readMeta } from '../meta.js';
import { StatelessDispatcher, type StatelessDispatcherOptions } from '../stateless-dispatcher.js';
import { ManualClock } from './manual-clock.js';
import { flush, RecordingSend, type Sent, track, WAIT_MS, within } from './recording-send.js';

/**
 * What the stateless dispatcher's and server pool's tests share (not published): real `McpServer`s
 * with tools that wait for the test, a recording `send`, and builders of stateless requests.
 */

export const PROTOCOL_VERSION = '2025-06-18';
export const ADDRESS = 'queue-a';
export const CLIENT_INFO = { name: 'test-client', version: '1.0.0' };

export { flush, type Sent, track, WAIT_MS, within };

/** The recording `send`, and the answers to a session's request. */
export class Outbox extends RecordingSend {
  /** The answers (results or errors) sent to `sessionId` with this id. */
  answersTo(sessionId: string, id: RequestId): Sent[] {
    return this.sent.filter(
      ({ message, target }) => isAnswerTo(message, id) && target.sessionId === sessionId,
    );
  }

  answer(sessionId: string, id: RequestId): Promise<Sent> {
    return this.waitFor(
      ({ message, target }) => isAnswerTo(message, id) && target.sessionId === sessionId,
      `an answer to ${sessionId}/${String(id)}`,
    );
  }
}

function isAnswerTo(message: JSONRPCMessage, id: RequestId): boolean {
  return ('result' in message || 'error' in message) && message.id === id;
}

/** Resolves the `wait` tool's calls when the test says. */
export class Gates {
  readonly #waiting: Array<{ text: string; resolve: () => void }> = [];
  readonly #arrivals: Array<() => void> = [];
  readonly #aborts = new Map<string, () => void>();
  readonly #aborted = new Set<string>();

  hold(text: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push({ text, resolve });
      signal.addEventListener(
        'abort',
        () => {
          this.#aborted.add(text);
          this.#aborts.get(text)?.();
          resolve();
        },
        { once: true },
      );
      for (const arrived of this.#arrivals.splice(0)) arrived();
    });
  }

  /** Resolves (bounded) once the server aborted the held call for `text` (it was cancelled). */
  aborted(text: string): Promise<void> {
    if (this.#aborted.has(text)) return Promise.resolve();
    return within(new Promise<void>((resolve) => this.#aborts.set(text, resolve)), `abort of ${text}`);
  }

  /** Waits (bounded) until `count` calls are held. */
  async held(count: number): Promise<void> {
    while (this.#waiting.length < count) {
      await within(new Promise<void>((resolve) => this.#arrivals.push(resolve)), `${count} held calls`);
    }
  }

  open(text: string): void {
    const index = this.#waiting.findIndex((entry) => entry.text === text);
    if (index < 0) throw new Error(`no held call for ${text}`);
    this.#waiting.splice(index, 1)[0]?.resolve();
  }
}

/**
 * A real `McpServer`: `echo`, `wait` (held until the test opens it, reporting progress first when asked),
 * `sample` (asks the client to sample, and reports how that went) and `whoami` (the client it was
 * initialized by).
 */
export function createTestServer(gates: Gates): McpServer {
  const server = new McpServer({ name: 'stateless-test-server', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('wait', { inputSchema: { text: z.string() } }, async ({ text }, extra) => {
    const progressToken = extra._meta?.progressToken;
    if (progressToken !== undefined) {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken, progress: 1 },
      });
    }
    await gates.hold(text, extra.signal);
    return { content: [{ type: 'text', text }] };
  });
  server.registerTool('sample', {}, async () => {
    try {
      await server.server.createMessage({
        messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }],
        maxTokens: 10,
      });
      return { content: [{ type: 'text', text: 'sampled' }] };
    } catch (error) {
      return { content: [{ type: 'text', text: `refused: ${(error as Error).message}` }] };
    }
  });
  server.registerTool('whoami', {}, async () => ({
    content: [{ type: 'text', text: server.server.getClientVersion()?.name ?? 'nobody' }],
  }));
  return server;
}

export interface RequestOptions {
  address?: string | null;
  clientInfo?: { name: string; version: string };
  /** `_meta` entries to leave out. */
  omit?: string[];
  meta?: Record<string, unknown>;
}

/** A request as our clients send it to a stateless worker: its answer address and server key in `_meta`. */
export function statelessRequest(
  id: RequestId,
  method: string,
  params: Record<string, unknown> = {},
  { address = ADDRESS, clientInfo = CLIENT_INFO, omit = [], meta = {} }: RequestOptions = {},
): JSONRPCRequest {
  const entries: Record<string, unknown> = {
    [RequestMetaKey.ProtocolVersion]: PROTOCOL_VERSION,
    [RequestMetaKey.ClientCapabilities]: { sampling: {} },
    [RequestMetaKey.ClientInfo]: clientInfo,
    ...(address === null ? {} : { responseQueueUrl: address }),
    ...meta,
  };
  for (const key of omit) delete entries[key];
  return { jsonrpc: '2.0', id, method, params: { ...params, _meta: entries } };
}

export function toolCall(
  id: RequestId,
  name: string,
  args: Record<string, unknown> = {},
  options?: RequestOptions,
) {
  return statelessRequest(id, 'tools/call', { name, arguments: args }, options);
}

export function initializeRequest(id: RequestId = 0, address: string | null = ADDRESS): JSONRPCRequest {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: { sampling: {} },
      clientInfo: CLIENT_INFO,
      ...(address === null ? {} : { _meta: { responseQueueUrl: address } }),
    },
  };
}

export function inbound(
  message: JSONRPCMessage | string,
  attributes: Record<string, string> = {},
): InboundMessage {
  return { body: typeof message === 'string' ? message : JSON.stringify(message), attributes };
}

export function attrs(sessionId: string): Record<string, string> {
  return { SessionId: sessionId, ProtocolVersion: PROTOCOL_VERSION };
}

export function accepted<A>(result: DispatchResult<A>): Extract<DispatchResult<A>, { status: 'accepted' }> {
  if (result.status !== 'accepted')
    throw new Error(`expected accepted, got ${result.reason}: ${result.error.error.message}`);
  return result;
}

export function rejected<A>(result: DispatchResult<A>): Extract<DispatchResult<A>, { status: 'rejected' }> {
  if (result.status !== 'rejected') throw new Error(`expected rejected, got accepted (${result.sessionId})`);
  return result;
}

/** The text of a tools/call answer. */
export function textOf(sent: Sent): string | undefined {
  const result =
    'result' in sent.message ? (sent.message.result as { content?: Array<{ text?: string }> }) : undefined;
  return result?.content?.[0]?.text;
}

export interface Harness {
  dispatcher: StatelessDispatcher<string>;
  outbox: Outbox;
  servers: McpServer[];
  gates: Gates;
  clock: ManualClock;
}

export function harness(options: Partial<StatelessDispatcherOptions<string>> = {}): Harness {
  const outbox = new Outbox();
  const servers: McpServer[] = [];
  const gates = new Gates();
  const clock = new ManualClock();
  const dispatcher = new StatelessDispatcher<string>({
    createServer: () => {
      const server = createTestServer(gates);
      servers.push(server);
      return server;
    },
    addressOf: (request) => readMeta(request, 'responseQueueUrl'),
    addressDescription: '_meta.responseQueueUrl',
    send: outbox.send,
    clock,
    ...options,
  });
  return { dispatcher, outbox, servers, gates, clock };
}
