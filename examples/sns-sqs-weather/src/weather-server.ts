import { SnsSqsSessionManager } from '@asyncmcp/sns-sqs';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** The MCP server each session gets: an ordinary McpServer, unaware that SNS and SQS carry its traffic. */
export function createWeatherServer(): McpServer {
  const server = new McpServer({ name: 'weather', version: '1.0.0' });
  server.registerTool(
    'forecast',
    { description: "Tomorrow's forecast for a city", inputSchema: { city: z.string() } },
    async ({ city }) => ({ content: [{ type: 'text', text: `${city}: sunny, 21 °C` }] }),
  );
  return server;
}

/**
 * Serves the weather server on the queue subscribed to its request topic until `close()` is called.
 * Each session is answered on the topic its client names.
 */
export async function startWeatherServer(options: {
  snsClient: SNSClient;
  sqsClient: SQSClient;
  requestQueueUrl: string;
}) {
  const manager = new SnsSqsSessionManager({
    snsClient: options.snsClient,
    sqsClient: options.sqsClient,
    requestQueueUrl: options.requestQueueUrl,
    createServer: createWeatherServer,
    onsessioninitialized: (sessionId) => console.error(`[server] session ${sessionId} opened`),
  });
  await manager.start();
  return manager;
}
