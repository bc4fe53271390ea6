import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { handleLogLevel } from './logging.js';
import { registerPrompts } from './prompts.js';
import { registerResources } from './resources.js';
import { registerTools } from './tools.js';

export { RED_PIXEL_PNG_BASE64, SILENT_WAV_BASE64 } from './content.js';
export { WATCHED_RESOURCE_URI } from './resources.js';

/**
 * Everything the MCP conformance suite (`@modelcontextprotocol/conformance` 0.1.16) checks of a server:
 * its tools, resources, prompts, completion, logging and subscriptions. Create one per session — the
 * log level, the subscriptions and the watched resource belong to the client that set them.
 */
export function createEverythingServer(): McpServer {
  const server = new McpServer(
    { name: 'asyncmcp-everything-server', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
    },
  );

  // In this order, so `tools/list` ends with the watched resource's tool, as the suite's server does.
  const log = handleLogLevel(server);
  registerTools(server, log);
  registerResources(server);
  registerPrompts(server);
  return server;
}
