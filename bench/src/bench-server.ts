import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { z } from 'zod';

// A worker makes a server per session; each would otherwise build a JSON Schema validator of its own,
// which was a third of the worker's CPU per session opened (bench/README.md, "What bounds opened/s").
// This server elicits nothing, so the one validator compiles no schema at all.
const validator = new AjvJsonSchemaValidator();

/** The one MCP server every path serves: an echo tool, so the paths differ only in transport. */
export function createBenchServer(): McpServer {
  const server = new McpServer({ name: 'bench', version: '1.0.0' }, { jsonSchemaValidator: validator });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}
