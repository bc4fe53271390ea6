import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

/** What a request's web-standard handling needs that the Node request does not carry. */
interface RequestContext {
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly parsedBody: unknown;
  readonly authInfo: AuthInfo | undefined;
}

const contexts = new WeakMap<IncomingMessage, RequestContext>();

/**
 * Node's HTTP server in front of the SDK's web-standard transport, through the same adapter the SDK's
 * own Node transport uses; one for every session, as the request says which transport it is for.
 */
const listener = getRequestListener(
  async (request, env) => {
    const incoming = env.incoming as IncomingMessage;
    const context = contexts.get(incoming);
    if (context === undefined) throw new Error('a request reached the session front without its session');
    contexts.delete(incoming);
    const response = await context.transport.handleRequest(request, {
      parsedBody: context.parsedBody,
      authInfo: context.authInfo,
    });
    return streamedAtOnce(response, incoming, env.outgoing as ServerResponse);
  },
  { overrideGlobalObjects: false },
);

/**
 * The adapter reads the first chunks of a response body before it writes the head, to send a short
 * body with its length; when the second chunk is not there at once it waits a timer (a millisecond or
 * more) for it. A call's SSE stream has its priming event at once and its answer only when the server
 * gives it, so every answer that came within that timer waited for it. A body marked chunked is
 * streamed as it comes. Node frames a response of unknown length in chunks on HTTP/1.1 anyway, so the
 * mark changes nothing on the wire; an HTTP/1.0 response has no chunks and is left as it was.
 *
 * Streamed, the head would go out alone, and the priming event in a write of its own: the socket is
 * corked until what the adapter writes at once is written, so both go in one write, as before.
 */
function streamedAtOnce(response: Response, incoming: IncomingMessage, outgoing: ServerResponse): Response {
  const http11 =
    incoming.httpVersionMajor > 1 || (incoming.httpVersionMajor === 1 && incoming.httpVersionMinor >= 1);
  if (
    !http11 ||
    response.body === null ||
    !response.headers.get('content-type')?.startsWith('text/event-stream')
  ) {
    return response;
  }
  response.headers.set('transfer-encoding', 'chunked');
  // The socket, not the response: a corked response buffers its chunks itself, and on Node.js 22 and
  // later turns the empty write of a flushed head into a chunk of length zero, which ends the body.
  const socket = outgoing.socket;
  if (socket !== null) {
    socket.cork();
    // After the microtasks in which the adapter writes the head and the events already there.
    process.nextTick(() => socket.uncork());
  }
  return response;
}

/**
 * The client side of a gateway session: the SDK's Streamable HTTP transport (its web-standard form, which
 * makes every protocol check), served on Node's HTTP server so that a call's SSE stream starts as soon as
 * the call is taken, and its answer goes out as soon as the server gives it.
 */
export class SessionFront extends WebStandardStreamableHTTPServerTransport {
  /** Handles one Node HTTP request of the session; resolves once its response is written and ended. */
  async handleNodeRequest(
    req: IncomingMessage & { auth?: AuthInfo },
    res: ServerResponse,
    parsedBody?: unknown,
  ): Promise<void> {
    contexts.set(req, { transport: this, parsedBody, authInfo: req.auth });
    await listener(req, res);
  }
}
