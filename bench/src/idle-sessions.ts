import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

/** How opening idle sessions went: how many opened, and the first refusal, which stopped the rest. */
export interface OpenedSessions {
  opened: number;
  ms: number;
  /** Why the first session that did not open failed; once one fails, no more are opened. */
  refused?: string;
}

/**
 * Opens idle sessions with bare HTTP (no client objects), so the heap measured is the gateway's. A
 * session counts as opened only when its `initialize` got a result (not an error) with a session id and
 * its `notifications/initialized` was accepted (202); the first one that fails stops the opening.
 */
export async function openIdleSessions(url: string, count: number): Promise<OpenedSessions> {
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
  let opened = 0;
  let refused: string | undefined;
  const openOne = async (): Promise<string | undefined> => {
    const response = await fetch(url, { method: 'POST', headers, body });
    const sessionId = response.headers.get('mcp-session-id');
    const text = await response.text();
    const answer = initializeAnswer(text);
    if (!response.ok || sessionId === null || answer === undefined || 'error' in answer) {
      return `initialize: HTTP ${response.status}: ${text.slice(0, 300)}`;
    }
    const initialized = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    const initializedText = await initialized.text();
    if (initialized.status !== 202) {
      return `notifications/initialized: HTTP ${initialized.status}: ${initializedText.slice(0, 300)}`;
    }
    return undefined;
  };
  const worker = async () => {
    while (next < count && refused === undefined) {
      next++;
      const failure = await openOne().catch((error: unknown) => String(error));
      if (failure === undefined) opened++;
      else refused ??= failure;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return { opened, ms: performance.now() - started, ...(refused === undefined ? {} : { refused }) };
}

/** The JSON-RPC answer in an `initialize` response: a JSON body, or the first SSE event carrying data. */
function initializeAnswer(text: string): Record<string, unknown> | undefined {
  const trimmed = text.trimStart();
  const data = trimmed.startsWith('{')
    ? trimmed
    : text
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim())
        .find((line) => line.length > 0);
  if (data === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(data);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
