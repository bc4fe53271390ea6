import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Cleanup } from './cleanups.js';
import { textOf } from './mcp-results.js';

/** How long one MCP request of a test may take on a loaded machine before the SDK gives up on it. */
export const REQUEST_TIMEOUT_MS = 20_000;

/** An SDK `Client` named `name`, connected over `transport`; `cleanups` closes it after the test. */
export async function connectedClient(
  transport: Transport,
  cleanups: Cleanup[],
  name: string,
  timeout = REQUEST_TIMEOUT_MS,
): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport, { timeout });
  cleanups.push(() => client.close());
  return client;
}

/** What the test servers' `echo` tool answers `text` with, as text. */
export async function echoText(client: Client, text: string, timeout = REQUEST_TIMEOUT_MS): Promise<string> {
  return textOf(await client.callTool({ name: 'echo', arguments: { text } }, undefined, { timeout }));
}

/** Each client echoes `session <its index>`; the answers, in client order. */
export function echoFromEach(clients: readonly Client[]): Promise<string[]> {
  return Promise.all(clients.map((client, index) => echoText(client, `session ${index}`)));
}
