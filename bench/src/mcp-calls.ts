import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/** An SDK client connected over `transport`. */
export async function connect(transport: Transport): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** One `tools/call` of the bench server's `echo` tool; a wrong answer fails it. */
export async function echo(client: Client, index: number): Promise<void> {
  const result = await client.callTool({ name: 'echo', arguments: { text: `m${index}` } }, undefined, {
    timeout: 15_000,
  });
  if ((result.content as Array<{ text: string }>)[0]?.text !== `m${index}`) throw new Error('wrong answer');
}

/** Every client makes `calls` calls one after another, all clients at once. */
export async function callConcurrently(clients: Client[], calls: number): Promise<void> {
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 0; i < calls; i++) await echo(c, i);
    }),
  );
}
