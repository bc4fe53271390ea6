import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerFactory, SessionManager } from '../contracts.js';
import { isValidSessionId } from '../session-id.js';
import { createConformanceServer } from './conformance-server.js';
import { countdown, MessageTap } from './message-tap.js';

/** What a transport (or backend) under test supplies to the kit. */
export interface ConformanceTarget {
  /** Starts the server side, hosting one MCP server per session made by `createServer`. */
  startServer(createServer: ServerFactory): Promise<SessionManager>;
  /** A fresh client-side transport (a client transport, or a backend's per-session transport). */
  createClientTransport(index: number): Transport | Promise<Transport>;
  /**
   * Puts raw text on the server's inbound channel as if it came from `sessionId`'s client. Enables the
   * malformed-input checks.
   */
  injectRaw?(text: string, sessionId: string): Promise<void>;
  /** Releases what the target made (queues, servers, backends). */
  close?(): Promise<void>;
}

export interface ConformanceCapabilities {
  /** The transport carries server→client requests (sampling, roots). @default true */
  serverToClientRequests?: boolean;
  /** A terminated session's later messages get an error back to the client. @default true */
  terminatedSessionError?: boolean;
  /** Closing the client transport ends its session on the server (it tells the server). @default false */
  sessionEndsOnClose?: boolean;
  /** How many sessions run at once in the concurrency check; 0 skips it. @default 20 */
  concurrentSessions?: number;
  /**
   * The client's session id is the server's. Not behind a gateway: its HTTP session ids are secrets of
   * its own, independent of the session ids it uses with the server (PROTOCOL.md §7). @default true
   */
  clientSeesServerSessionId?: boolean;
}

export interface ConformanceOptions {
  /** Bound on every request and wait of the suite. @default 15000 */
  timeoutMs?: number;
}

/**
 * The shared suite every asyncmcp transport and backend runs: a real SDK `Client` against a real
 * `McpServer` through the transport under test. Call it at the top level of a test file.
 */
export function describeTransportConformance(
  name: string,
  setup: () => Promise<ConformanceTarget>,
  capabilities: ConformanceCapabilities = {},
  options: ConformanceOptions = {},
): void {
  const timeout = options.timeoutMs ?? 15_000;
  const concurrent = capabilities.concurrentSessions ?? 20;
  const sameSessionIds = capabilities.clientSeesServerSessionId ?? true;
  const request = { timeout };

  describe(`transport conformance: ${name}`, () => {
    let target: ConformanceTarget;
    let manager: SessionManager;
    let rootsChanged = 0;
    const rootsWaiters = new Set<() => void>();
    const opened: Client[] = [];

    beforeAll(async () => {
      target = await setup();
      manager = await target.startServer(() =>
        createConformanceServer({
          onRootsListChanged: () => {
            rootsChanged++;
            for (const waiter of rootsWaiters) waiter();
          },
        }),
      );
    }, timeout * 2);

    afterAll(async () => {
      await Promise.allSettled(opened.map((client) => client.close()));
      await manager?.close();
      await target?.close?.();
    }, timeout * 2);

    async function connect(index = 0): Promise<{ client: Client; tap: MessageTap }> {
      const tap = new MessageTap(await target.createClientTransport(index));
      const client = new Client(
        { name: `conformance-client-${index}`, version: '1.0.0' },
        { capabilities: { sampling: {}, roots: { listChanged: true } } },
      );
      client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
        const first = req.params.messages[0]?.content;
        const text = first && 'text' in first ? String(first.text) : '';
        return {
          role: 'assistant',
          model: 'conformance',
          content: { type: 'text', text: text.toUpperCase() },
        };
      });
      client.setRequestHandler(ListRootsRequestSchema, async () => ({
        roots: [{ uri: `file:///client-${index}`, name: `root ${index}` }],
      }));
      await client.connect(tap, request);
      opened.push(client);
      return { client, tap };
    }

    function text(result: unknown): string {
      const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
      return content.map((part) => part.text ?? '').join('');
    }

    it('initializes and adopts a valid session id the server knows', async () => {
      const before = new Set(manager.sessions.keys());
      const { client, tap } = await connect();
      expect(client.getServerVersion()).toMatchObject({ name: 'asyncmcp-conformance' });
      expect(isValidSessionId(tap.sessionId)).toBe(true);
      const opened = [...manager.sessions.keys()].filter((id) => !before.has(id));
      expect(opened).toHaveLength(1);
      const serverSessionId = opened[0] as string;
      if (sameSessionIds) {
        expect(serverSessionId).toBe(tap.sessionId);
      } else {
        // The client's session id tells nothing of the server's: knowing one gives no way into the other.
        expect(serverSessionId).not.toContain(tap.sessionId as string);
        expect(tap.sessionId).not.toContain(serverSessionId);
      }
      expect(SUPPORTED_PROTOCOL_VERSIONS).toContain(manager.sessions.get(serverSessionId)?.protocolVersion);
    });

    it('lists and calls tools, reads resources, gets prompts', async () => {
      const { client } = await connect();
      const tools = await client.listTools(undefined, request);
      expect(tools.tools.map((tool) => tool.name).sort()).toEqual(['echo', 'progress', 'roots', 'sample']);
      expect(
        text(
          await client.callTool({ name: 'echo', arguments: { text: 'héllo \u2603' } }, undefined, request),
        ),
      ).toBe('héllo \u2603');
      const resources = await client.listResources(undefined, request);
      expect(resources.resources.map((resource) => resource.uri)).toContain('conformance://static');
      const read = await client.readResource({ uri: 'conformance://static' }, request);
      expect(read.contents[0]).toMatchObject({ text: 'static resource text' });
      const prompt = await client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } }, request);
      expect(prompt.messages[0]?.content).toMatchObject({ type: 'text', text: 'Hello, Ada!' });
    });

    it('carries notifications from server to client: progress and logging', async () => {
      const { client } = await connect();
      const logs: string[] = [];
      client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
        logs.push(String(notification.params.data));
      });
      const progress: number[] = [];
      const result = await client.callTool({ name: 'progress', arguments: { steps: 3 } }, undefined, {
        ...request,
        onprogress: (event) => progress.push(event.progress),
      });
      expect(text(result)).toBe('done 3');
      // Notifications sent before the answer arrive before it on every transport that keeps session order.
      expect(progress).toEqual([1, 2, 3]);
      expect(logs).toEqual(['step 1', 'step 2', 'step 3']);
    });

    it('carries notifications from client to server', async () => {
      const { client } = await connect();
      const before = rootsChanged;
      const arrived = countdown(1, timeout);
      rootsWaiters.add(arrived.signal);
      try {
        await client.sendRootsListChanged();
        await arrived.done;
      } finally {
        rootsWaiters.delete(arrived.signal);
      }
      expect(rootsChanged).toBeGreaterThan(before);
    });

    it.skipIf(capabilities.serverToClientRequests === false)(
      'carries server→client requests and their answers (sampling, roots)',
      async () => {
        const { client } = await connect(7);
        expect(
          text(await client.callTool({ name: 'sample', arguments: { prompt: 'ping' } }, undefined, request)),
        ).toBe('sampled: PING');
        expect(text(await client.callTool({ name: 'roots', arguments: {} }, undefined, request))).toBe(
          'file:///client-7',
        );
      },
    );

    it.skipIf(concurrent === 0)(
      `serves ${concurrent} concurrent sessions with colliding ids and no cross-talk`,
      async () => {
        const sessions = await Promise.all(
          Array.from({ length: concurrent }, (_, index) => connect(100 + index)),
        );
        const ids = new Set(sessions.map(({ tap }) => tap.sessionId));
        expect(ids.size).toBe(concurrent);
        const results = await Promise.all(
          sessions.flatMap(({ client }, index) =>
            [0, 1, 2].map(async (round) => {
              const echoed = text(
                await client.callTool(
                  { name: 'echo', arguments: { text: `s${index}-r${round}` } },
                  undefined,
                  request,
                ),
              );
              return echoed === `s${index}-r${round}`;
            }),
          ),
        );
        expect(results.every(Boolean)).toBe(true);
        if (sameSessionIds) {
          for (const { tap } of sessions) expect(manager.sessions.has(tap.sessionId as string)).toBe(true);
        } else {
          expect(manager.sessions.size).toBeGreaterThanOrEqual(concurrent);
        }
      },
    );

    it('fires onclose when the client transport closes, and refuses to send after', async () => {
      const inner = await target.createClientTransport(900);
      const tap = new MessageTap(inner);
      const client = new Client({ name: 'closer', version: '1.0.0' });
      await client.connect(tap, request);
      const closed = countdown(1, timeout);
      client.onclose = closed.signal;
      await client.close();
      await closed.done;
      await expect(inner.send({ jsonrpc: '2.0', method: 'notifications/initialized' })).rejects.toThrow();
    });

    it.runIf(capabilities.sessionEndsOnClose === true)(
      'ends the server session when the client closes',
      async () => {
        const { client, tap } = await connect();
        const sessionId = tap.sessionId as string;
        expect(manager.sessions.has(sessionId)).toBe(true);
        await client.close();
        await expect.poll(() => manager.sessions.has(sessionId), { timeout }).toBe(false);
      },
    );

    it.skipIf(capabilities.terminatedSessionError === false)(
      'answers a message for a terminated session with "Session has been terminated"',
      async () => {
        const before = new Set(manager.sessions.keys());
        const { client } = await connect();
        const sessionId = [...manager.sessions.keys()].find((id) => !before.has(id)) as string;
        expect(await manager.terminateSession(sessionId)).toBe(true);
        expect(manager.sessions.has(sessionId)).toBe(false);
        await expect(client.listTools(undefined, request)).rejects.toThrow(
          `Session has been terminated: ${sessionId}`,
        );
      },
    );

    describe('malformed input', () => {
      it('survives malformed messages; their errors, for ids this client never sent, do not reach it', async (ctx) => {
        if (!target.injectRaw) return ctx.skip();
        const { client, tap } = await connect();
        const sessionId = tap.sessionId as string;
        // The server answers each with a JSON-RPC error (id "server-error", or the id the message named);
        // the client takes answers only for ids it minted (PROTOCOL.md §8), so none reaches the SDK.
        await target.injectRaw('{"jsonrpc": "2.0", "method": ', sessionId);
        await target.injectRaw('{"jsonrpc":"2.0","id":"bad-1","method":42}', sessionId);
        await target.injectRaw('[]', sessionId);
        expect(
          text(
            await client.callTool({ name: 'echo', arguments: { text: 'still here' } }, undefined, request),
          ),
        ).toBe('still here');
        const foreign = tap.received.filter(
          (message) => 'error' in message && (message.id === 'server-error' || message.id === 'bad-1'),
        );
        expect(foreign).toEqual([]);
      });
    });
  });
}
