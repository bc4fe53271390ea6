// The server of the workers measurement, as users serve theirs: a stdio MCP server that
// `asyncmcp-proxy serve` runs once per session. The same one echo tool as every other path (see
// bench-server.ts); plain JavaScript, so each session's process starts with `node` alone.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'bench', version: '1.0.0' });
server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
  content: [{ type: 'text', text }],
}));
await server.connect(new StdioServerTransport());
