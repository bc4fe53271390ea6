import { SqsSessionManager } from '@asyncmcp/sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { z } from 'zod';

// Made once for every session's server: each would otherwise build a validator of its own.
const jsonSchemaValidator = new AjvJsonSchemaValidator();

/** The MCP server each session gets: an ordinary McpServer, unaware that SQS carries its traffic. */
export function createWeatherServer(): McpServer {
  const server = new McpServer({ name: 'weather', version: '1.0.0' }, { jsonSchemaValidator });
  server.registerTool(
    'forecast',
    { description: "Tomorrow's forecast for a city", inputSchema: { city: z.string() } },
    async ({ city }) => ({ content: [{ type: 'text', text: `${city}: sunny, 21 °C` }] }),
  );
  return server;
}

/** Serves the weather server on an SQS request queue until `close()` is called. */
export async function startWeatherServer(options: { sqsClient: SQSClient; requestQueueUrl: string }) {
  const manager = new SqsSessionManager({
    sqsClient: options.sqsClient,
    requestQueueUrl: options.requestQueueUrl,
    createServer: createWeatherServer,
    onsessioninitialized: (sessionId) => console.error(`[server] session ${sessionId} opened`),
  });
  await manager.start();
  return manager;
}
