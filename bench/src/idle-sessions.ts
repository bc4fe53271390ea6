import { Agent } from 'node:http';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { answerIn, postOnce } from './bare-http.js';

/** Sessions being opened at once. */
const OPENING_AT_ONCE = 64;

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
 *
 * It posts with `node:http` over kept-alive connections rather than `fetch`: the opening client shares
 * the two cores with the processes measured, and `fetch` spent 0.53 ms of CPU per session opened where
 * this spends 0.15 (bench/README.md, "What bounds opened/s").
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
  const agent = new Agent({ keepAlive: true, maxSockets: OPENING_AT_ONCE });
  const post = (headers: Record<string, string>, body: string) => postOnce(agent, url, headers, body);
  const started = performance.now();
  let next = 0;
  let opened = 0;
  let refused: string | undefined;
  const openOne = async (): Promise<string | undefined> => {
    const response = await post(headers, body);
    const { sessionId, text } = response;
    const answer = answerIn(text);
    if (response.status !== 200 || sessionId === undefined || answer === undefined || 'error' in answer) {
      return `initialize: HTTP ${response.status}: ${text.slice(0, 300)}`;
    }
    const initialized = await post(
      { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    );
    if (initialized.status !== 202) {
      return `notifications/initialized: HTTP ${initialized.status}: ${initialized.text.slice(0, 300)}`;
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
  await Promise.all(Array.from({ length: OPENING_AT_ONCE }, worker));
  agent.destroy();
  return { opened, ms: performance.now() - started, ...(refused === undefined ? {} : { refused }) };
}
