import { randomUUID } from 'node:crypto';
import { InMemoryBroker, InMemoryClientTransport, InMemorySessionManager } from '@asyncmcp/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** The server every session gets: one tool. */
export function createWeatherServer(): McpServer {
  const server = new McpServer({ name: 'weather', version: '1.0.0' });
  server.registerTool(
    'forecast',
    { description: 'Tomorrow’s forecast for a city', inputSchema: { city: z.string() } },
    async ({ city }) => ({ content: [{ type: 'text', text: `${city}: sunny, 21 °C` }] }),
  );
  return server;
}

/** Starts a session manager, connects an SDK client through the async transport, calls the tool. */
export async function runQuickstart(
  city: string,
): Promise<{ sessionId: string | undefined; answer: string }> {
  const broker = new InMemoryBroker();
  const serverAddress = `weather-${randomUUID()}`;
  const manager = new InMemorySessionManager({
    broker,
    address: serverAddress,
    createServer: createWeatherServer,
  });
  await manager.start();

  const transport = new InMemoryClientTransport({ broker, serverAddress });
  const client = new Client({ name: 'quickstart', version: '1.0.0' });
  try {
    await client.connect(transport);
    const result = await client.callTool({ name: 'forecast', arguments: { city } });
    const content = result.content as Array<{ type: string; text?: string }>;
    return { sessionId: transport.sessionId, answer: content.map((part) => part.text ?? '').join('') };
  } finally {
    await client.close();
    await manager.close();
  }
}
