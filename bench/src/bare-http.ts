import { type Agent, request } from 'node:http';

/** What one POST got back. */
export interface BareAnswer {
  status: number;
  sessionId: string | undefined;
  text: string;
}

/**
 * POSTs `body` to `url` with `node:http` and reads the whole answer: no client objects, no `fetch`, so
 * what is measured beside it is the server's (bench/README.md, "What bounds opened/s").
 */
export function postOnce(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<BareAnswer> {
  return new Promise((resolve, reject) => {
    const sent = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('error', reject);
        response.on('end', () => {
          const sessionId = response.headers['mcp-session-id'];
          resolve({
            status: response.statusCode ?? 0,
            sessionId: typeof sessionId === 'string' ? sessionId : undefined,
            text,
          });
        });
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

/** The JSON-RPC answer in a response body: a JSON body, or the first SSE event carrying data. */
export function answerIn(text: string): Record<string, unknown> | undefined {
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

/**
 * One `tools/call` of the bench server's `echo` tool on an open session, as a bare HTTP exchange: the
 * POST an SDK client sends, its SSE stream read to the end, the answer checked. What a call through the
 * gateway costs without the SDK client's transport and protocol layer around it.
 */
export function bareEcho(options: { agent: Agent; url: string; sessionId: string; protocolVersion: string }) {
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-session-id': options.sessionId,
    'mcp-protocol-version': options.protocolVersion,
  };
  return async (index: number): Promise<void> => {
    const id = `bare-${index}`;
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: `m${index}` } },
    });
    const answer = await postOnce(options.agent, options.url, headers, body);
    const message = answerIn(answer.text);
    const result = message?.result as { content?: Array<{ text?: string }> } | undefined;
    if (answer.status !== 200 || message?.id !== id || result?.content?.[0]?.text !== `m${index}`) {
      throw new Error(`bare tools/call: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
    }
  };
}
