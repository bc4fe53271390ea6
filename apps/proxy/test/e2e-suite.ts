import { SqsClientTransport } from '@asyncmcp/sqs';
import { type SqsEmulator, textOf, useSqsEmulator } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolResultSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, expect } from 'vitest';
import { type CliProcess, killAll, WAIT_MS, within } from './cli-process.js';

// The set-up every end-to-end file of the CLI repeats: an emulator of its own, SDK clients closed after each
// test, and every CLI process a test started killed after it.

/** Longer than any wait of a test: a call that fails did not fail by timing out at the client. */
export const CLIENT_TIMEOUT_MS = 120_000;

/**
 * An emulator for the tests of the calling file or `describe` (see `useSqsEmulator`), whose AWS clients are
 * also destroyed after them: the shared helper keeps them, for a test that restarts the emulator.
 */
export function useCliEmulator(): SqsEmulator {
  const emulator = useSqsEmulator();
  // Registered after the emulator's own stop, so it runs before it (after-hooks run newest first).
  afterAll(() => {
    try {
      emulator.sqsClient.destroy();
      emulator.snsClient.destroy();
    } catch {
      // The emulator never started: its start-up failure is what the run reports.
    }
  });
  return emulator;
}

export interface GatewayClients {
  /** The clients the running test connected (closed after it). */
  readonly clients: Client[];
  /** An SDK client connected to `url` over Streamable HTTP, `headers` on each of its requests. */
  connect(url: string, headers?: Record<string, string>): Promise<Client>;
  /** An SDK client connected over `transport` (a queue transport, or one a test wraps), bounded by `ms`. */
  connectOver(transport: Transport, what: string, ms?: number): Promise<Client>;
}

/**
 * SDK clients named `name` for the tests of the calling file or `describe`. After each test they are
 * closed, then `stopBeforeKill` runs (what the clients went through, e.g. a load balancer, stopped once
 * their closing requests are through), then every CLI process the test left running is killed.
 */
export function useGatewayClients(name: string, stopBeforeKill?: () => Promise<unknown>): GatewayClients {
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((client) => client.close()));
    await stopBeforeKill?.().catch(() => undefined);
    await killAll();
  });
  const connectOver = async (transport: Transport, what: string, ms = WAIT_MS) => {
    const client = new Client({ name, version: '1.0.0' });
    clients.push(client);
    await within(client.connect(transport), what, ms);
    return client;
  };
  return {
    clients,
    connectOver,
    connect: (url, headers) =>
      connectOver(
        new StreamableHTTPClientTransport(new URL(url), headers ? { requestInit: { headers } } : {}),
        'connecting through the gateway',
      ),
  };
}

/** No worker heard of a session it was not holding: each request reached the worker that held its session. */
export function expectNoUnknownSessions(workers: readonly CliProcess[]): void {
  for (const worker of workers) {
    expect(worker.lines.stdout.some((line) => line.includes('unknown session'))).toBe(false);
  }
}

/** A client transport straight on `requestQueueUrl`, answered on a new queue of its own: no gateway in front. */
export async function sqsClientTransport(
  emulator: SqsEmulator,
  requestQueueUrl: string,
  responseQueuePrefix: string,
): Promise<SqsClientTransport> {
  return new SqsClientTransport({
    sqsClient: emulator.sqsClient,
    requestQueueUrl,
    responseQueueUrl: await emulator.createQueue(responseQueuePrefix),
    waitTimeSeconds: 1,
  });
}

/** `tools/call` of `name`, with a client timeout longer than any wait of a test. */
export function callTool(client: Client, name: string, args: Record<string, unknown> = {}) {
  return client.callTool({ name, arguments: args }, undefined, { timeout: CLIENT_TIMEOUT_MS });
}

/** The text a `tools/call` of `name` answers (bounded): what most tests compare. */
export async function textOfCall(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<string> {
  return textOf(await within(client.callTool({ name, arguments: args }), `tools/call ${name}`));
}

/** The text a `tools/call` of `name` answers (bounded), with the progress the server sent for it, in order. */
export async function callWithProgress(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<{ text: string; progress: Progress[] }> {
  const progress: Progress[] = [];
  const result = await within(
    client.callTool({ name, arguments: args }, CallToolResultSchema, {
      onprogress: (update) => progress.push(update),
    }),
    `tools/call ${name}`,
  );
  return { text: textOf(result), progress };
}

/** The `echo` tool of the worker fixtures, which answers `echo: <text>`. */
export function echo(client: Client, text: string) {
  return callTool(client, 'echo', { text });
}

/** A `tools/list` POSTed under `sessionId` as any client sends it, without the SDK (bounded). */
function postToolsList(url: string, sessionId: string): Promise<Response> {
  return within(
    fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'probe', method: 'tools/list' }),
      signal: AbortSignal.timeout(WAIT_MS),
    }),
    `the answer for session ${sessionId}`,
  );
}

/** What the gateway answers a request under `sessionId`, status and body: for a session it may not know. */
export async function postUnderSession(
  url: string,
  sessionId: string,
): Promise<{ status: number; body: string }> {
  const answer = await postToolsList(url, sessionId);
  return { status: answer.status, body: await within(answer.text(), `the body for session ${sessionId}`) };
}

/** The status the gateway answers a request under `sessionId` with, not waiting for the body (a stream). */
export async function statusUnderSession(url: string, sessionId: string): Promise<number> {
  const answer = await postToolsList(url, sessionId);
  await answer.body?.cancel();
  return answer.status;
}

/**
 * Until `check` passes: for a state nothing announces (queue depths, a status code, the process table),
 * polled every `interval` ms and bounded by `ms`; a check that throws counts as not passing yet.
 */
export async function pollUntil(
  check: () => Promise<boolean>,
  what: string,
  { ms = WAIT_MS, interval = 50 }: { ms?: number; interval?: number } = {},
): Promise<void> {
  await expect.poll(() => check().catch(() => false), { timeout: ms, interval, message: what }).toBe(true);
}
