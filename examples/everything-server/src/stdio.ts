import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createEverythingServer } from './everything-server.js';

// stdout carries the protocol, so anything for humans goes to stderr.
await createEverythingServer().connect(new StdioServerTransport());
console.error('everything-server: MCP over stdio');
