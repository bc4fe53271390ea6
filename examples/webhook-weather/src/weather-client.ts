import { WebhookClientTransport, type WebhookSecret } from '@asyncmcp/webhook';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';

/**
 * Connects an ordinary SDK Client over webhooks and asks for a forecast. The transport starts its own
 * webhook receiver on a free loopback port; in an app with an HTTP server of its own, mount
 * `transport.handleWebhook` there instead and pass its public URL as `webhookUrl`.
 */
export async function askForecast(options: {
  serverUrl: string;
  city: string;
  signingSecret?: WebhookSecret;
}): Promise<{ sessionId: string | undefined; tools: string[]; answer: string; progress: string[] }> {
  const transport = new WebhookClientTransport({
    serverUrl: options.serverUrl,
    listen: { port: 0, host: '127.0.0.1' },
    signingSecret: options.signingSecret,
  });
  const client = new Client({ name: 'weather-client', version: '1.0.0' });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    const progress: string[] = [];
    const result = await client.callTool({ name: 'forecast', arguments: { city: options.city } }, undefined, {
      onprogress: (event) => progress.push(event.message ?? String(event.progress)),
    });
    const content = result.content as Array<{ type: string; text?: string }>;
    return {
      sessionId: transport.sessionId,
      tools: tools.map((tool) => tool.name),
      answer: content.map((part) => part.text ?? '').join(''),
      progress,
    };
  } finally {
    // Ends the session on the server (HTTP DELETE) and stops the receiver.
    await client.close();
  }
}
