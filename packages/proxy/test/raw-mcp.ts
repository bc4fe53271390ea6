import { initializeRequest } from '@asyncmcp-internal/test-support';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

// MCP requests sent by hand, as a client without the SDK sends them.

/** An `initialize` POSTed by hand. */
export const INIT = initializeRequest(1, {
  protocolVersion: LATEST_PROTOCOL_VERSION,
  clientInfo: { name: 'raw', version: '1' },
});

/** The headers of an MCP POST sent by hand. */
export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

/** `body` POSTed to `url` as JSON, by hand, with the MCP headers (`headers` added to them, or replacing them). */
export function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: JSON.stringify(body) });
}
