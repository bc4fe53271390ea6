import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { RootsListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** What the kit observes of its servers from the outside. */
export interface ConformanceObserver {
  /** Called when a server receives `notifications/roots/list_changed` from its client. */
  onRootsListChanged(): void;
}

/**
 * The MCP server the conformance kit runs behind every transport: a tool, a resource, a prompt, a tool
 * that reports progress and logs, and tools that make requests to the client (sampling, roots).
 */
export function createConformanceServer(observer: ConformanceObserver): McpServer {
  const server = new McpServer(
    { name: 'asyncmcp-conformance', version: '1.0.0' },
    { capabilities: { logging: {}, tools: {}, resources: {}, prompts: {} } },
  );

  server.registerTool(
    'echo',
    { description: 'Returns its text', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );

  server.registerTool(
    'progress',
    {
      description: 'Sends progress and log notifications, then answers',
      inputSchema: { steps: z.number().int() },
    },
    async ({ steps }, extra) => {
      const token = extra._meta?.progressToken;
      for (let step = 1; step <= steps; step++) {
        await extra.sendNotification({
          method: 'notifications/message',
          params: { level: 'info', logger: 'conformance', data: `step ${step}` },
        });
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: step, total: steps },
          });
        }
      }
      return { content: [{ type: 'text', text: `done ${steps}` }] };
    },
  );

  server.registerTool(
    'sample',
    { description: 'Asks the client to sample a message', inputSchema: { prompt: z.string() } },
    async ({ prompt }, extra) => {
      const result = await server.server.createMessage(
        { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 16 },
        { relatedRequestId: extra.requestId },
      );
      const text = result.content.type === 'text' ? result.content.text : '';
      return { content: [{ type: 'text', text: `sampled: ${text}` }] };
    },
  );

  server.registerTool('roots', { description: 'Lists the client roots' }, async (extra) => {
    const { roots } = await server.server.listRoots(undefined, { relatedRequestId: extra.requestId });
    return { content: [{ type: 'text', text: roots.map((root) => root.uri).join(',') }] };
  });

  server.registerResource(
    'static',
    'conformance://static',
    { mimeType: 'text/plain', description: 'A fixed text' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'static resource text' }] }),
  );

  server.registerPrompt(
    'greet',
    { description: 'Greets someone', argsSchema: { name: z.string() } },
    ({ name }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Hello, ${name}!` } }] }),
  );

  server.server.setNotificationHandler(RootsListChangedNotificationSchema, () =>
    observer.onRootsListChanged(),
  );
  return server;
}
