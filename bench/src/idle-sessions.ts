import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

/** Opens idle sessions with bare HTTP (no client objects), so the heap measured is the gateway's. */
export async function openIdleSessions(url: string, count: number): Promise<number> {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'idle', version: '1' },
    },
  });
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const response = await fetch(url, { method: 'POST', headers, body });
      const sessionId = response.headers.get('mcp-session-id') as string;
      await response.text();
      const initialized = await fetch(url, {
        method: 'POST',
        headers: { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      });
      await initialized.text();
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return performance.now() - started;
}
