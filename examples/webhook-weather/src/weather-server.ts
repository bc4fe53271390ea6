import { type WebhookSecret, WebhookSessionManager } from '@asyncmcp/webhook';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** The MCP server each session gets: an ordinary McpServer, unaware that webhooks carry its traffic. */
export function createWeatherServer(): McpServer {
  const server = new McpServer({ name: 'weather', version: '1.0.0' });
  server.registerTool(
    'forecast',
    { description: "Tomorrow's forecast for a city", inputSchema: { city: z.string() } },
    async ({ city }, extra) => {
      // A slow tool would report how far it got; the progress reaches the client's webhook too.
      const token = extra._meta?.progressToken;
      if (token !== undefined) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: 1, total: 1, message: 'asking the clouds' },
        });
      }
      return { content: [{ type: 'text', text: `${city}: sunny, 21 °C` }] };
    },
  );
  return server;
}

/**
 * Serves the weather server at `http://<host>:<port>/mcp/request` until `close()` is called. Clients here
 * are on loopback, so private addresses are allowed as webhook targets; a public server leaves
 * `allowPrivateNetworks` off (the default) and may list its clients' hosts in `allowedWebhookHosts`.
 */
export async function startWeatherServer(options: {
  port: number;
  host?: string;
  signingSecret?: WebhookSecret;
}) {
  const manager = new WebhookSessionManager({
    createServer: createWeatherServer,
    allowPrivateNetworks: true,
    signingSecret: options.signingSecret,
    onsessioninitialized: (sessionId) => console.error(`[server] session ${sessionId} opened`),
  });
  const url = await manager.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  return { manager, url };
}
