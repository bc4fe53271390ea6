import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ready } from './child-process.js';

// The floor of any HTTP hop: a bare Node server that sends a POST's body back, no MCP and no framework.
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(Buffer.concat(chunks));
  });
});
server.listen(0, '127.0.0.1', () => {
  ready({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
