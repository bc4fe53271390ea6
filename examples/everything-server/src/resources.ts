import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { RED_PIXEL_PNG_BASE64, text } from './content.js';

export const WATCHED_RESOURCE_URI = 'test://watched-resource';

/**
 * Static, binary and templated resources, and one watched resource with subscriptions and the tool that
 * changes it (the subscriptions belong to this server's session).
 */
export function registerResources(server: McpServer): void {
  server.registerResource(
    'static-text',
    'test://static-text',
    { description: 'A static text resource', mimeType: 'text/plain' },
    (uri) => ({
      contents: [
        { uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
      ],
    }),
  );

  server.registerResource(
    'static-binary',
    'test://static-binary',
    { description: 'A static binary resource (PNG)', mimeType: 'image/png' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: RED_PIXEL_PNG_BASE64 }] }),
  );

  server.registerResource(
    'template-data',
    new ResourceTemplate('test://template/{id}/data', {
      list: undefined,
      complete: { id: (value) => ['123', '456', '789'].filter((id) => id.startsWith(value)) },
    }),
    { description: 'JSON data for any id', mimeType: 'application/json' },
    (uri, { id }) => {
      const value = String(id);
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: 'application/json',
            text: JSON.stringify({ id: value, templateTest: true, data: `Data for ID: ${value}` }),
          },
        ],
      };
    },
  );

  let watchedContent = 'Watched resource content';
  const subscriptions = new Set<string>();
  server.registerResource(
    'watched-resource',
    WATCHED_RESOURCE_URI,
    {
      description: 'A resource to subscribe to; `update_watched_resource` changes it',
      mimeType: 'text/plain',
    },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: watchedContent }] }),
  );
  server.server.setRequestHandler(SubscribeRequestSchema, ({ params }) => {
    subscriptions.add(params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, ({ params }) => {
    subscriptions.delete(params.uri);
    return {};
  });
  server.registerTool(
    'update_watched_resource',
    {
      description: `Changes ${WATCHED_RESOURCE_URI}, notifying the client if it subscribed`,
      inputSchema: { content: z.string().describe('The new content') },
    },
    async ({ content }, extra) => {
      watchedContent = content;
      if (subscriptions.has(WATCHED_RESOURCE_URI)) {
        // On the call's own stream, so the client has it before the result.
        await extra.sendNotification({
          method: 'notifications/resources/updated',
          params: { uri: WATCHED_RESOURCE_URI },
        });
      }
      return text(`Updated ${WATCHED_RESOURCE_URI}`);
    },
  );
}
