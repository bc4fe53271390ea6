import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import {
  BroadcastChannelClientTransport,
  BroadcastChannelSessionManager,
} from './broadcast-channel-transport.js';

/** The server every session gets: one tool. */
function createCalculatorServer(): McpServer {
  const server = new McpServer({ name: 'calculator', version: '1.0.0' });
  server.registerTool(
    'add',
    { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => ({ content: [{ type: 'text', text: `${a} + ${b} = ${a + b}` }] }),
  );
  return server;
}

const serverChannel = `calculator-${randomUUID()}`;
const manager = new BroadcastChannelSessionManager({
  channel: serverChannel,
  createServer: createCalculatorServer,
});
await manager.start();

const transport = new BroadcastChannelClientTransport({ serverChannel });
const client = new Client({ name: 'custom-transport-demo', version: '1.0.0' });
try {
  await client.connect(transport);
  const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
  const content = result.content as Array<{ type: string; text?: string }>;
  console.log(`session ${transport.sessionId}`);
  console.log(content.map((part) => part.text ?? '').join(''));
} finally {
  // Closing both ends closes every channel, so the process exits on its own.
  await client.close();
  await manager.close();
}
