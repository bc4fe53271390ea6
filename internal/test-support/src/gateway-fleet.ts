import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  LATEST_PROTOCOL_VERSION,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import { z } from 'zod';
import type { Cleanup } from './cleanups.js';
import { textOf } from './mcp-results.js';

// Imported as a namespace (`import * as fleet from '@asyncmcp-internal/test-support/gateway-fleet'`).
// What the fleet tests of the gateway library share, whatever the backend behind it: gateway instances in
// one process, a client whose every HTTP request the test sends to the instance it chooses (a load balancer
// it steers), and what an instance answers for sessions it did not open.

/** Every bound on a client request here: far above what a call on loopback takes. */
const REQUEST = { timeout: 20_000 };

/** The headers of an MCP POST (or, with another `accept`, GET) sent by hand. */
const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
};

/** A gateway instance of a fleet: where it listens, and the metrics in which it counts adoptions. */
export interface FleetInstance {
  url: URL;
  proxy: {
    metrics: {
      sessionsAdopted: { get(): Promise<{ values: ReadonlyArray<{ labels: object; value: number }> }> };
    };
  };
}

/** Where each of a client's HTTP requests goes, by method and by how many it sent before. */
export type FleetRoute<I extends FleetInstance = FleetInstance> = (method: string, sequence: number) => I;

/** Consecutive requests alternate between `a` and `b`: plain round robin. */
export function roundRobin<I extends FleetInstance>(a: I, b: I): FleetRoute<I> {
  return (_method, sequence) => (sequence % 2 === 0 ? a : b);
}

/**
 * A `createServer` for a session manager: each session's server says it may change its tools (so it can
 * speak outside a request) and has `echo`, which answers its text; each one made is pushed on `servers`.
 */
export function echoServer(name: string, servers: McpServer[]): () => McpServer {
  return () => {
    const server = new McpServer(
      { name, version: '1.0.0' },
      { capabilities: { tools: { listChanged: true } } },
    );
    server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
      content: [{ type: 'text', text }],
    }));
    servers.push(server);
    return server;
  };
}

/** An SDK client whose requests go where `route` says (closed by `cleanups`), once connected. */
export async function connectSteered(
  route: FleetRoute,
  cleanups: Cleanup[],
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  let sequence = 0;
  const steered: typeof fetch = (input, init) => {
    const target = route(init?.method ?? 'GET', sequence++).url;
    const url = new URL(String(input instanceof Request ? input.url : input));
    url.host = target.host;
    return fetch(url, init);
  };
  const client = new Client({ name: 'fleet-client', version: '1.0.0' });
  // The host is replaced on every request: no request goes to this one.
  const transport = new StreamableHTTPClientTransport(new URL('http://127.0.0.1:1/mcp'), { fetch: steered });
  await client.connect(transport, REQUEST);
  cleanups.push(() => client.close());
  return { client, transport };
}

/** What `echo` answers for `text`. */
export async function echoText(client: Client, text: string): Promise<string> {
  return textOf(await client.callTool({ name: 'echo', arguments: { text } }, undefined, REQUEST));
}

/** Runs `count` echo calls on `client`, one after another, expecting each text back. */
export async function expectEchoes(client: Client, label: string, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    expect(await echoText(client, `${label} ${index}`)).toBe(`${label} ${index}`);
  }
}

/** A session through `a` and `b` in turn under an id the fleet signed (64 hex digits), answering 4 calls. */
export async function expectSignedSession(
  a: FleetInstance,
  b: FleetInstance,
  cleanups: Cleanup[],
): Promise<void> {
  const { client, transport } = await connectSteered(roundRobin(a, b), cleanups);
  // Tagged at its end, whether or not the key carries its client between random part and tag.
  expect(transport.sessionId).toMatch(/^[0-9a-f]{32}(?:\.[A-Za-z0-9_-]+\.)?[0-9a-f]{32}$/);
  await expectEchoes(client, 'signed', 4);
}

/** How many sessions `instance` asked the servers about, by outcome (`adopted`, `unknown`). */
export async function adoptions(instance: FleetInstance, outcome: string): Promise<number> {
  const metric = await instance.proxy.metrics.sessionsAdopted.get();
  return (
    metric.values.find((value) => (value.labels as Record<string, unknown>).outcome === outcome)?.value ?? 0
  );
}

/** A `tools/list` POSTed to `instance` by hand under `sessionId`. */
export function postUnderSession(instance: FleetInstance, sessionId: string, id = 1): Promise<Response> {
  return fetch(instance.url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'mcp-session-id': sessionId },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' }),
  });
}

/** A session id of the fleet's form whose tag no fleet secret made. */
export function forgedSessionId(): string {
  return `${randomBytes(16).toString('hex')}${randomBytes(16).toString('hex')}`;
}

/** The same with a client part, as a fleet's key carries one: a client the forger made up. */
export function forgedSessionIdWithClient(): string {
  const client = Buffer.from(JSON.stringify([{}, { name: 'forger', version: '1' }])).toString('base64url');
  return `${randomBytes(16).toString('hex')}.${client}.${randomBytes(16).toString('hex')}`;
}

/** A well-formed session id no instance opened: 404 naming it, after asking the servers once. */
export async function expectUnknownSessionRefused(instance: FleetInstance): Promise<void> {
  const unknown = randomBytes(16).toString('hex');
  const response = await postUnderSession(instance, unknown);
  expect(response.status).toBe(404);
  expect(await response.json()).toMatchObject({
    error: { code: -32001, message: `Session not found: ${unknown}` },
  });
  expect(await adoptions(instance, 'unknown')).toBe(1);
}

/** A GET stream under a session id not of the fleet's form: 404 at once, the servers not asked. */
export async function expectMalformedSessionRefused(instance: FleetInstance): Promise<void> {
  const before = await adoptions(instance, 'unknown');
  const malformed = await fetch(instance.url, {
    method: 'GET',
    headers: { ...MCP_HEADERS, accept: 'text/event-stream', 'mcp-session-id': 'not-one-of-ours' },
  });
  expect(malformed.status).toBe(404);
  expect(await adoptions(instance, 'unknown')).toBe(before);
}

/**
 * A session whose POSTs all go to `posts` and whose GET stream goes to `stream`, once `stream` has adopted
 * it: `server` is the session's server (the next one `servers` gets), `heard` resolves when the client
 * hears it say its tools changed (and rejects after 15 s).
 */
export async function openSplitSession(
  posts: FleetInstance,
  stream: FleetInstance,
  servers: McpServer[],
  cleanups: Cleanup[],
): Promise<{ client: Client; server: McpServer; heard: Promise<void> }> {
  const opened = servers.length;
  const { client } = await connectSteered((method) => (method === 'GET' ? stream : posts), cleanups);
  const server = servers[opened] as McpServer;
  let timer: NodeJS.Timeout | undefined;
  const heard = new Promise<void>((resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error('the client heard no tools/list_changed within 15000 ms')),
      15_000,
    );
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve());
  }).finally(() => clearTimeout(timer));
  heard.catch(() => undefined);
  await expect.poll(() => adoptions(stream, 'adopted'), { timeout: 10_000 }).toBe(1);
  return { client, server, heard };
}

/**
 * A session opened on `a` carries on through `b` once `a` stops, without a new session at the servers
 * (`manager` counts them); then a DELETE through `b` ends it there, and `b` answers 404 for it.
 */
export async function expectSessionToOutliveItsInstance(
  a: FleetInstance & { proxy: { close(): Promise<void> } },
  b: FleetInstance,
  manager: { sessions: { size: number } },
  cleanups: Cleanup[],
): Promise<void> {
  let current: FleetInstance = a;
  const { client, transport } = await connectSteered(() => current, cleanups);
  expect(await echoText(client, 'on a')).toBe('on a');
  const live = manager.sessions.size;
  await a.proxy.close();
  current = b;
  expect(await echoText(client, 'on b')).toBe('on b');
  expect(manager.sessions.size).toBe(live);
  await transport.terminateSession();
  await expect.poll(() => manager.sessions.size, { timeout: 10_000 }).toBe(live - 1);
  expect((await postUnderSession(b, transport.sessionId ?? '', 9)).status).toBe(404);
}
