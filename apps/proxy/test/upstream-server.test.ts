import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ServerFactory } from '@asyncmcp/core';
import { SqsClientTransport, SqsSessionManager } from '@asyncmcp/sqs';
import { cleanupsAfterEach, textOf, useSqsEmulator } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  isInitializeRequest,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpUpstreamFactory, createStdioServerFactory } from '../src/upstream-server.js';

const request = { timeout: 20_000 };
const fixture = fileURLToPath(new URL('./fixtures/upstream/stdio-server.mjs', import.meta.url));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('serve: an existing MCP server behind SQS', () => {
  const sqs = useSqsEmulator();
  const cleanups = cleanupsAfterEach();

  async function serve(createServer: ServerFactory) {
    const requestQueueUrl = await sqs.createQueue('serve');
    // Short polls, so close() does not wait out a long one.
    const polling = { waitTimeSeconds: 1 };
    const manager = new SqsSessionManager({
      sqsClient: sqs.sqsClient,
      requestQueueUrl,
      createServer,
      ...polling,
    });
    await manager.start();
    cleanups.push(() => manager.close());
    return { manager, requestQueueUrl };
  }

  async function connect(requestQueueUrl: string) {
    const responseQueueUrl = await sqs.createQueue('serve-client');
    const transport = new SqsClientTransport({
      sqsClient: sqs.sqsClient,
      requestQueueUrl,
      responseQueueUrl,
      waitTimeSeconds: 1,
    });
    const client = new Client({ name: 'serve-client', version: '1.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      role: 'assistant',
      model: 'test',
      content: { type: 'text', text: 'pong' },
    }));
    await client.connect(transport, request);
    cleanups.push(() => client.close());
    return { client, transport };
  }

  it('runs one child process per session and passes everything through', async () => {
    const { requestQueueUrl } = await serve(
      createStdioServerFactory({ command: process.execPath, args: [fixture], stderr: 'ignore' }),
    );
    const first = await connect(requestQueueUrl);
    const second = await connect(requestQueueUrl);
    const pidA = Number(
      textOf(await first.client.callTool({ name: 'whoami', arguments: {} }, undefined, request)),
    );
    const pidB = Number(
      textOf(await second.client.callTool({ name: 'whoami', arguments: {} }, undefined, request)),
    );
    expect(pidA).toBeGreaterThan(0);
    expect(pidB).not.toBe(pidA);

    const logs: string[] = [];
    first.client.setNotificationHandler(
      LoggingMessageNotificationSchema,
      (n) => void logs.push(String(n.params.data)),
    );
    const progress: number[] = [];
    const steps = await first.client.callTool({ name: 'steps', arguments: { count: 3 } }, undefined, {
      ...request,
      onprogress: (p) => progress.push(p.progress),
    });
    expect(textOf(steps)).toBe('did 3');
    expect(progress).toEqual([1, 2, 3]);
    expect(logs).toEqual(['step 1', 'step 2', 'step 3']);
    expect(textOf(await first.client.callTool({ name: 'sample', arguments: {} }, undefined, request))).toBe(
      'sampled pong',
    );
  });

  it('ends the child process when the session ends', async () => {
    const { manager, requestQueueUrl } = await serve(
      createStdioServerFactory({ command: process.execPath, args: [fixture], stderr: 'ignore' }),
    );
    const { client, transport } = await connect(requestQueueUrl);
    const pid = Number(textOf(await client.callTool({ name: 'whoami', arguments: {} }, undefined, request)));
    expect(isAlive(pid)).toBe(true);
    expect(await manager.terminateSession(transport.sessionId as string)).toBe(true);
    await expect.poll(() => isAlive(pid), { timeout: 10_000 }).toBe(false);
  });

  it('answers with a JSON-RPC error when the child crashes mid-call, and keeps serving', async () => {
    const { manager, requestQueueUrl } = await serve(
      createStdioServerFactory({ command: process.execPath, args: [fixture], stderr: 'ignore' }),
    );
    const { client, transport } = await connect(requestQueueUrl);
    await expect(client.callTool({ name: 'crash', arguments: {} }, undefined, request)).rejects.toThrow(
      /the server side of this session ended before answering/,
    );
    await expect
      .poll(() => manager.sessions.has(transport.sessionId as string), { timeout: 10_000 })
      .toBe(false);
    const fresh = await connect(requestQueueUrl);
    expect(
      textOf(await fresh.client.callTool({ name: 'echo', arguments: { text: 'alive' } }, undefined, request)),
    ).toBe('alive');
  });

  it('serves a Streamable HTTP server with one upstream session per async session, deleted at the end', async () => {
    const upstreamSessions = new Set<string>();
    const closed: string[] = [];
    const app = createMcpExpressApp();
    const transports = new Map<string, StreamableHTTPServerTransport>();
    app.all('/mcp', async (req, res) => {
      const sessionId = req.header('mcp-session-id');
      let transport = sessionId ? transports.get(sessionId) : undefined;
      if (!transport && isInitializeRequest(req.body)) {
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            upstreamSessions.add(id);
            transports.set(id, transport as StreamableHTTPServerTransport);
          },
          onsessionclosed: (id) => void closed.push(id),
        });
        const server = new McpServer({ name: 'http-upstream', version: '1.0.0' });
        server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text: value }) => ({
          content: [{ type: 'text', text: `upstream says ${value}` }],
        }));
        await server.connect(transport);
      }
      if (!transport)
        return void res
          .status(404)
          .json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
      await transport.handleRequest(req, res, req.body);
    });
    const listening = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => listening.once('listening', resolve));
    cleanups.push(() => new Promise((resolve) => listening.close(resolve)));
    const { port } = listening.address() as AddressInfo;

    const { manager, requestQueueUrl } = await serve(
      createHttpUpstreamFactory(`http://127.0.0.1:${port}/mcp`),
    );
    const a = await connect(requestQueueUrl);
    const b = await connect(requestQueueUrl);
    expect(
      textOf(await a.client.callTool({ name: 'echo', arguments: { text: 'a' } }, undefined, request)),
    ).toBe('upstream says a');
    expect(
      textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'b' } }, undefined, request)),
    ).toBe('upstream says b');
    expect(upstreamSessions.size).toBe(2);
    await manager.terminateSession(a.transport.sessionId as string);
    await expect.poll(() => closed.length, { timeout: 10_000 }).toBe(1);
  });
});
