import {
  describeError,
  type FleetClient,
  isInitializeRequest,
  JsonRpcErrorCode,
  jsonRpcError,
  type Logger,
  type RequestId,
  UNKNOWN_REQUEST_ID,
  validateMessage,
} from '@asyncmcp/core';
import cors from 'cors';
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import type { GatewaySession, GatewaySessions } from './gateway-sessions.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import type { ProxyServerOptions } from './proxy-server-options.js';
import { bearerAuth, httpError, originValidation } from './security.js';

export interface McpEndpointContext {
  readonly options: ProxyServerOptions;
  readonly path: string;
  /** Whether the gateway binds loopback: then only loopback origins are accepted by default. */
  readonly loopback: boolean;
  readonly sessions: GatewaySessions;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
}

/**
 * Mounts the MCP endpoint on `app`: its origin, CORS, token and body checks, then POST (a new session on
 * `initialize`, else a session's message), GET and DELETE, each handed to its session's SDK transport.
 */
export function mountMcpEndpoint(app: Express, context: McpEndpointContext): void {
  const { options, path, sessions, metrics, logger } = context;
  const backendName = options.backend.name;
  const corsOrigins = options.corsOrigins ?? [];
  if (corsOrigins.length > 0) {
    app.use(
      path,
      cors({
        origin: corsOrigins,
        methods: ['GET', 'POST', 'DELETE'],
        allowedHeaders: [
          'Content-Type',
          'Accept',
          'Authorization',
          'Mcp-Session-Id',
          'MCP-Protocol-Version',
          'Last-Event-ID',
        ],
        exposedHeaders: ['Mcp-Session-Id', 'MCP-Protocol-Version', 'WWW-Authenticate'],
      }),
    );
  }
  app.use(
    path,
    originValidation({
      allowedOrigins: [...(options.allowedOrigins ?? []), ...corsOrigins],
      loopbackOnly: context.loopback,
    }),
  );
  if (options.authToken !== undefined) app.use(path, bearerAuth(options.authToken));
  app.use(path, express.json({ limit: options.maxBodySize ?? '4mb' }));

  app.post(path, async (req, res) => {
    const sessionId = req.header('mcp-session-id');
    if (sessionId !== undefined) return forward(sessionId, req, res);
    // express.json() leaves any other content type unread; the SDK's transport would refuse it with
    // 415 too, but only after a session was opened for it.
    if (!req.is('application/json')) {
      return void res
        .status(415)
        .json(httpError(-32000, 'Unsupported Media Type: Content-Type must be application/json'));
    }
    if (!isInitializeRequest(req.body)) {
      return void res.status(400).json(httpError(-32000, 'Bad Request: No valid session ID provided'));
    }
    const requestId = (req.body as { id: string | number }).id;
    if (sessions.closing) {
      return void res
        .status(503)
        .json({ ...httpError(-32000, 'Service unavailable: the gateway is shutting down'), id: requestId });
    }
    if (!sessions.hasRoom()) {
      metrics.sessionsRejected.inc({ reason: 'limit' });
      return void res
        .status(503)
        .set('Retry-After', '5')
        .json({
          ...httpError(-32000, `Service unavailable: session limit reached (${sessions.maxSessions})`),
          id: requestId,
        });
    }
    let session: GatewaySession;
    try {
      session = await sessions.open(clientOfInitialize(req.body));
    } catch (error) {
      metrics.sessionsRejected.inc({ reason: 'backend' });
      logger.error({ err: describeError(error) }, 'could not open a backend session');
      return void res
        .status(503)
        .json({ ...httpError(-32603, `Backend unavailable: ${describeError(error)}`), id: requestId });
    }
    await session.front.handleNodeRequest(req, res, req.body);
    // The SDK's transport names the session only once it accepted the initialize; refused (406 without
    // the Accept it needs, 400 …), the session must not keep a slot until it is evicted as idle.
    if (session.front.sessionId === undefined) {
      metrics.sessionsRejected.inc({ reason: 'refused' });
      sessions.discard(session);
      await session.bridge.close();
      return;
    }
    // Gone already: the server refused the initialize, and the session was not kept (counted then).
    if (sessions.get(session.key) !== session) return;
    metrics.sessionsOpened.inc();
    session.log.info({ backend: backendName }, 'session opened');
  });
  app.get(path, (req, res) => forwardExisting(req, res));
  app.delete(path, (req, res) => forwardExisting(req, res));
  app.all(path, (_req, res) => {
    res.status(405).set('Allow', 'GET, POST, DELETE').json(httpError(-32000, 'Method not allowed'));
  });
  app.use(bodyErrors(options, logger));

  async function forward(sessionId: string, req: Request, res: Response): Promise<void> {
    let session = sessions.get(sessionId);
    if (!session) {
      const terminated = sessions.isTerminated(sessionId);
      const fleet = options.backend.fleet;
      if (terminated || fleet === undefined || !fleet.mayAdopt(sessionId)) {
        const status = terminated ? 'Session has been terminated' : 'Session not found';
        return void res.status(404).json(httpError(-32001, `${status}: ${sessionId}`));
      }
      const adoption = await sessions.adopt(sessionId, req.header('mcp-protocol-version'));
      if (adoption.status === 'refused') {
        return void res.status(adoption.httpStatus).json(httpError(-32001, adoption.message));
      }
      session = adoption.session;
    }
    // A body that parses but is not JSON-RPC would otherwise reach the backend as garbage.
    if (req.method === 'POST' && !Array.isArray(req.body) && req.body !== undefined) {
      const checked = validateMessage(req.body);
      // An error that answers no request it could read carries id null over HTTP, as JSON-RPC says (the
      // queues' "server-error" is for Python peers).
      if (!checked.ok) {
        const id = checked.error.id === UNKNOWN_REQUEST_ID ? null : checked.error.id;
        return void res.status(400).json({ ...checked.error, id });
      }
    }
    sessions.touch(sessionId);
    const lastEventId = req.method === 'GET' ? req.header('last-event-id') : undefined;
    const lost = lastEventId === undefined ? undefined : session.events.callsOfOtherStream(lastEventId);
    if (lost !== undefined) return lostCall(session, res, lost);
    if (req.method === 'GET' && req.header('accept')?.includes('text/event-stream')) {
      // The client listens here now: what the server sends outside requests must come here. A session
      // opened here is already answered here until its first stream, so that one needs no word.
      if (session.adopted || session.listened) {
        const listening = session;
        listening.back.listenHere?.().catch((error: unknown) => {
          listening.log.warn(
            { err: describeError(error) },
            'could not tell the server where the session listens',
          );
        });
      }
      session.listened = true;
    }
    await session.front.handleNodeRequest(req, res, req.body);
    // The client has the answer to its initialize: it need not be kept for a replay.
    if (req.method === 'POST' && carriesInitialized(req.body)) session.events.releaseInitialize();
  }

  /**
   * A client resumes the stream of a call another instance carried (`Last-Event-ID`): that instance is
   * gone (or the client would have gone back to it), and the call's answer with it. The stream gets an
   * error for each call it carried (their ids are in its event ids) and ends, so the calls fail now
   * instead of waiting for their timeout.
   */
  function lostCall(session: GatewaySession, res: Response, calls: RequestId[]): void {
    session.log.warn(
      { calls: calls.length },
      'calls carried by another instance were resumed here: they get an error',
    );
    metrics.dropped.inc({ reason: 'call of another instance' }, Math.max(calls.length, 1));
    const events = calls.map((id) => {
      const error = jsonRpcError(
        JsonRpcErrorCode.ConnectionClosed,
        'Connection closed: the gateway instance that carried this call went away before it was answered; the call may have run',
        id,
      );
      return `event: message\ndata: ${JSON.stringify(error)}\n\n`;
    });
    res
      .status(200)
      .set({
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        'mcp-session-id': session.key,
      })
      .end(events.join(''));
  }

  function forwardExisting(req: Request, res: Response): Promise<void> | void {
    const sessionId = req.header('mcp-session-id');
    if (sessionId === undefined) {
      return void res.status(400).json(httpError(-32000, 'Bad Request: Mcp-Session-Id header is required'));
    }
    return forward(sessionId, req, res);
  }
}

/** Whether a POST body is (or, as a batch, holds) `notifications/initialized`. */
function carriesInitialized(body: unknown): boolean {
  const isInitialized = (message: unknown) =>
    typeof message === 'object' &&
    message !== null &&
    (message as { method?: unknown }).method === 'notifications/initialized';
  return Array.isArray(body) ? body.some(isInitialized) : isInitialized(body);
}

/** Bodies too large or not JSON get the JSON-RPC error a client can read; anything else a 500. */
function bodyErrors(options: ProxyServerOptions, logger: Logger): ErrorRequestHandler {
  return (error: { type?: string; status?: number; message?: string }, _req, res, next) => {
    if (res.headersSent) return next(error);
    if (error.type === 'entity.too.large') {
      return void res
        .status(413)
        .json(httpError(-32600, `Request body too large (limit ${options.maxBodySize ?? '4mb'})`));
    }
    if (error.type === 'entity.parse.failed') {
      return void res.status(400).json(httpError(-32700, `Parse error: ${error.message ?? 'invalid JSON'}`));
    }
    logger.error({ err: error.message }, 'request failed');
    res.status(error.status ?? 500).json(httpError(-32603, 'Internal error'));
  };
}

/** What an `initialize` says of its client, for a fleet's session key; the SDK's transport checks it whole. */
function clientOfInitialize(body: unknown): FleetClient | undefined {
  const params = (body as { params?: { capabilities?: unknown; clientInfo?: unknown } }).params;
  const isObject = (value: unknown): value is object =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(params?.clientInfo)) return undefined;
  const capabilities = isObject(params.capabilities) ? params.capabilities : {};
  return { capabilities, clientInfo: params.clientInfo } as FleetClient;
}
