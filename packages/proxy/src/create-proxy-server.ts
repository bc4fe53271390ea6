import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Backend,
  type BackendSessionTransport,
  type Clock,
  ConfigurationError,
  describeError,
  generateSessionId,
  isInitializeRequest,
  JsonRpcErrorCode,
  jsonRpcError,
  type Logger,
  type RequestId,
  SessionRegistry,
  sessionLogId,
  UNKNOWN_REQUEST_ID,
  validateMessage,
} from '@asyncmcp/core';
import { hostHeaderValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import cors from 'cors';
import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { adoptedFront, streamRequestIds } from './adopted-front.js';
import { confirmSession } from './confirm-session.js';
import { childLogger, createDefaultLogger } from './default-logger.js';
import { BoundedEventStore, EventStoreBudget } from './event-store.js';
import { createLimitedHttpServer, type ProxyHttpLimits, resolveHttpLimits } from './http-limits.js';
import { PROXY_DEFAULTS } from './proxy-defaults.js';
import { ProxyMetrics } from './proxy-metrics.js';
import { bearerAuth, httpError, isLoopbackHost, originValidation } from './security.js';
import { SessionBridge } from './session-bridge.js';

export interface ProxyServerOptions {
  /** Where sessions are forwarded: any asyncmcp backend (`sqsBackend(...)`, …). Closed by `close()`. */
  backend: Backend;
  /** Interface to bind. Anything but loopback exposes the gateway to the network. @default '127.0.0.1' */
  host?: string;
  /** @default 8080 (0 picks a free port) */
  port?: number;
  /** The MCP endpoint. @default '/mcp' */
  path?: string;
  /** When set, MCP requests (and `/metrics`, unless `publicMetrics`) need `Authorization: Bearer <authToken>`. */
  authToken?: string;
  /**
   * Serve `/metrics` without the bearer token even when `authToken` is set, for a scraper that cannot
   * send one. Off by default: metrics tell how the gateway is used (sessions, methods, errors), which is
   * no business of whoever can merely reach the port. @default PROXY_DEFAULTS.publicMetrics (false)
   */
  publicMetrics?: boolean;
  /** Accepted `Host` header names. @default loopback names when bound to loopback, any otherwise */
  allowedHosts?: string[];
  /** Accepted `Origin` headers. @default loopback origins when bound to loopback, none otherwise */
  allowedOrigins?: string[];
  /** Browser origins allowed by CORS (they are also accepted as origins). @default none */
  corsOrigins?: string[];
  /** Most live sessions; a new one beyond it gets 503. @default PROXY_DEFAULTS.maxSessions (1000) */
  maxSessions?: number;
  /**
   * Sessions with no traffic and nothing running for this long are closed.
   * @default PROXY_DEFAULTS.sessionIdleTimeoutMs (1800000, 30 minutes)
   */
  sessionIdleTimeoutMs?: number;
  /**
   * Most requests of one session waiting for the backend at once; beyond it a request gets a JSON-RPC
   * error at once, so one client cannot pile work on the backend. @default PROXY_DEFAULTS.maxInFlightPerSession (32)
   */
  maxInFlightPerSession?: number;
  /**
   * What the resumption store keeps (`Last-Event-ID`), oldest dropped first: `maxEvents` and `maxBytes`
   * per session, `maxTotalBytes` for all sessions together. @default PROXY_DEFAULTS.eventStore
   */
  eventStore?: { maxEvents?: number; maxBytes?: number; maxTotalBytes?: number };
  /** The HTTP server's timeouts and connection cap. @default PROXY_DEFAULTS.http */
  http?: ProxyHttpLimits;
  /** A request the backend does not answer in this time gets a JSON-RPC error. @default PROXY_DEFAULTS.requestTimeoutMs (300000, 5 min) */
  requestTimeoutMs?: number;
  /**
   * Time source of idle eviction and request timeouts. Tests pass a clock they move themselves
   * (`ManualClock` from `@asyncmcp/core/testing`). @default systemClock
   */
  clock?: Clock;
  /** Largest accepted JSON body. @default '4mb' */
  maxBodySize?: string | number;
  /** How long `close()` lets running requests finish. @default 10000 */
  shutdownTimeoutMs?: number;
  /**
   * Answer each POST with one JSON body instead of an SSE stream: less work per call for clients and
   * gateway, but a call's answer cannot be resumed after a lost connection, and a server's progress, log
   * and sampling/elicitation messages during a call reach the client only on the session's GET stream.
   * SDK clients open that stream after initializing; a client without one misses those messages (they
   * wait in the event store for a GET that resumes), and a call waiting on a server request then ends
   * only with `requestTimeoutMs`. @default false
   */
  enableJsonResponse?: boolean;
  /** Structured logger (pino or compatible). @default JSON lines on stdout */
  logger?: Logger;
}

export interface ProxyServer {
  /** The Express app: mount it elsewhere or add routes before `listen()`. */
  readonly app: Express;
  readonly metrics: ProxyMetrics;
  /** Live session ids. */
  readonly sessionIds: () => string[];
  listen(): Promise<{ url: string; port: number }>;
  /**
   * Stops accepting, lets running requests finish (up to `shutdownTimeoutMs`), then closes sessions (a call
   * still running gets a JSON-RPC error) and the backend.
   */
  close(): Promise<void>;
}

/** Why a call still running when its client deleted the session ends; the client sees it in the error. */
const SESSION_DELETED = 'the session was deleted (HTTP DELETE)';

interface GatewaySession {
  readonly key: string;
  readonly front: StreamableHTTPServerTransport;
  readonly back: BackendSessionTransport;
  readonly bridge: SessionBridge;
  readonly events: BoundedEventStore;
  readonly log: Logger;
  /** Opened by another instance of the fleet; this one took it over on a request for it. */
  readonly adopted: boolean;
  /** A GET stream was opened here before. */
  listened: boolean;
}

/** How a request for a session this instance does not hold ended up. */
type Adoption =
  | { readonly status: 'adopted'; readonly session: GatewaySession }
  | { readonly status: 'refused'; readonly httpStatus: number; readonly message: string };

/**
 * The asyncmcp gateway: a standard MCP Streamable HTTP endpoint (the SDK's own transport, so POST/GET/
 * DELETE, SSE, sessions, protocol versions and resumption behave as every client expects) whose
 * sessions are each bridged to a transport from `backend`.
 */
export function createProxyServer(options: ProxyServerOptions): ProxyServer {
  const host = options.host ?? PROXY_DEFAULTS.host;
  const path = options.path ?? PROXY_DEFAULTS.path;
  if (!path.startsWith('/')) throw new ConfigurationError(`path must start with "/", got "${path}"`);
  if (options.authToken !== undefined && options.authToken.length < 8) {
    throw new ConfigurationError('authToken must be at least 8 characters');
  }
  const httpLimits = resolveHttpLimits(options.http);
  const logger = options.logger ?? createDefaultLogger();
  const backend = options.backend;
  const fleet = backend.fleet;
  /** Sessions being adopted, so that requests arriving together for one share its round trip. */
  const adoptions = new Map<string, Promise<Adoption>>();
  const metrics = new ProxyMetrics(backend);
  const loopback = isLoopbackHost(host);
  let closing = false;

  const eventBudget = new EventStoreBudget({ maxTotalBytes: options.eventStore?.maxTotalBytes });
  const sessions = new SessionRegistry<GatewaySession>({
    maxSessions: options.maxSessions ?? PROXY_DEFAULTS.maxSessions,
    idleTimeoutMs: options.sessionIdleTimeoutMs ?? PROXY_DEFAULTS.sessionIdleTimeoutMs,
    clock: options.clock,
    isBusy: (session) => session.bridge.inFlight > 0,
    onEvict: (key, session) => {
      childLogger(logger, { sessionId: sessionLogId(key) }).info({}, 'idle session evicted');
      void endSession(session, 'idle', 'the session was closed as idle');
    },
  });

  const app = express();
  app.disable('x-powered-by');

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', sessions: sessions.size });
  });
  app.get('/ready', async (_req, res) => {
    try {
      await backend.checkReady?.();
      res.json({ status: 'ready', backend: backend.name });
    } catch (error) {
      res.status(503).json({ status: 'unavailable', backend: backend.name, error: describeError(error) });
    }
  });
  const metricsGuard: RequestHandler[] =
    options.authToken !== undefined && !(options.publicMetrics ?? PROXY_DEFAULTS.publicMetrics)
      ? [bearerAuth(options.authToken)]
      : [];
  app.get('/metrics', ...metricsGuard, async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  // A backend that receives over HTTP (webhooks) gets its route here: called by servers, not browsers,
  // so outside the Host/Origin/token checks below, and unparsed, since a signature covers the raw body.
  const route = backend.httpRoute;
  if (route) {
    app.use(route.path, (req, res, next) => {
      Promise.resolve(route.handle(req, res)).catch(next);
    });
  }

  // Probes and scrapes come from orchestrators by IP, so they sit before the Host check, which guards
  // the MCP endpoint (the only route a DNS-rebinding page could abuse).
  const allowedHosts = options.allowedHosts ?? (loopback ? ['localhost', '127.0.0.1', '[::1]'] : undefined);
  if (allowedHosts) app.use(hostHeaderValidation(allowedHosts));

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
      loopbackOnly: loopback,
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
    if (closing) {
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
      session = await openSession();
    } catch (error) {
      metrics.sessionsRejected.inc({ reason: 'backend' });
      logger.error({ err: describeError(error) }, 'could not open a backend session');
      return void res
        .status(503)
        .json({ ...httpError(-32603, `Backend unavailable: ${describeError(error)}`), id: requestId });
    }
    await session.front.handleRequest(req, res, req.body);
    // The SDK's transport names the session only once it accepted the initialize; refused (406 without
    // the Accept it needs, 400 …), the session must not keep a slot until it is evicted as idle.
    if (session.front.sessionId === undefined) {
      metrics.sessionsRejected.inc({ reason: 'refused' });
      discard(session);
      await session.bridge.close();
      return;
    }
    metrics.sessionsOpened.inc();
    session.log.info({ backend: backend.name }, 'session opened');
  });
  app.get(path, (req, res) => forwardExisting(req, res));
  app.delete(path, (req, res) => forwardExisting(req, res));
  app.all(path, (_req, res) => {
    res.status(405).set('Allow', 'GET, POST, DELETE').json(httpError(-32000, 'Method not allowed'));
  });

  const bodyErrors: ErrorRequestHandler = (
    error: { type?: string; status?: number; message?: string },
    _req,
    res,
    next,
  ) => {
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
  app.use(bodyErrors);

  function openSession(): Promise<GatewaySession> {
    return buildSession(fleet?.mintSessionKey() ?? generateSessionId('hex'));
  }

  /** A gateway session: opened here, or with `adopted`, one another instance of the fleet opened. */
  async function buildSession(
    key: string,
    adopted?: { protocolVersion: string | undefined },
  ): Promise<GatewaySession> {
    const log = childLogger(logger, { sessionId: sessionLogId(key) });
    const back: BackendSessionTransport = await backend.createTransport({
      sessionKey: key,
      logger: log,
      adopted,
    });
    const events = new BoundedEventStore({
      maxEvents: options.eventStore?.maxEvents,
      maxBytes: options.eventStore?.maxBytes,
      budget: eventBudget,
    });
    const onsessionclosed = async () => {
      log.info({}, 'session deleted by the client');
      forget(key, 'deleted');
      // The SDK closes the session's streams as soon as this returns: each running call gets its error
      // on its own stream first. The backend side closes after, without holding up the DELETE.
      await session.bridge.endRunning(SESSION_DELETED);
      void endSession(session, 'deleted', SESSION_DELETED);
    };
    const enableJsonResponse = options.enableJsonResponse ?? false;
    const front = adopted
      ? adoptedFront({ sessionId: key, eventStore: events, enableJsonResponse, onsessionclosed })
      : new StreamableHTTPServerTransport({
          sessionIdGenerator: () => key,
          eventStore: events,
          enableJsonResponse,
          onsessionclosed,
        });
    const bridge = new SessionBridge({
      front,
      back,
      requestTimeoutMs: options.requestTimeoutMs,
      maxInFlight: options.maxInFlightPerSession ?? PROXY_DEFAULTS.maxInFlightPerSession,
      clock: options.clock,
      logger: log,
      observer: metrics.observer(),
      serverMessageStream: options.enableJsonResponse ? 'session' : 'request',
      onclose: () => forget(key, 'closed'),
    });
    // Its event ids name the calls each stream answers, for an instance the client resumes it on.
    events.setRequestIdsOf(streamRequestIds(front));
    const session: GatewaySession = {
      key,
      front,
      back,
      bridge,
      events,
      log,
      adopted: adopted !== undefined,
      listened: false,
    };
    await bridge.start();
    sessions.add(key, session);
    metrics.sessions.set(sessions.size);
    return session;
  }

  /** Frees a session that never started (its initialize was refused): not counted as opened or closed. */
  function discard(session: GatewaySession): void {
    if (sessions.get(session.key) !== session) return;
    sessions.remove(session.key);
    session.events.clear();
    metrics.sessions.set(sessions.size);
  }

  function forget(key: string, reason: string): void {
    const session = sessions.get(key);
    if (session === undefined) return;
    sessions.remove(key);
    session.events.clear();
    metrics.sessionsClosed.inc({ reason });
    metrics.sessions.set(sessions.size);
  }

  /** Ends a session; its running calls get a JSON-RPC error naming `cause` (see `SessionBridge.close`). */
  async function endSession(session: GatewaySession, reason: string, cause: string): Promise<void> {
    forget(session.key, reason);
    // Other instances of the fleet may serve the session too: only its client's DELETE ends it there.
    if (reason !== 'deleted') session.back.keepServerSession?.();
    await session.bridge.close(cause);
  }

  async function forward(sessionId: string, req: Request, res: Response): Promise<void> {
    let session = sessions.get(sessionId);
    if (!session) {
      const terminated = sessions.status(sessionId).state === 'terminated';
      if (terminated || fleet === undefined || !fleet.mayAdopt(sessionId)) {
        const status = terminated ? 'Session has been terminated' : 'Session not found';
        return void res.status(404).json(httpError(-32001, `${status}: ${sessionId}`));
      }
      const adoption = await adopt(sessionId, req);
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
        session.back.listenHere?.().catch((error: unknown) => {
          session.log.warn(
            { err: describeError(error) },
            'could not tell the server where the session listens',
          );
        });
      }
      session.listened = true;
    }
    await session.front.handleRequest(req, res, req.body);
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

  /**
   * Takes over a session another instance of the fleet opened (PROTOCOL.md §7b): one `ping` under its
   * session id asks the servers whether they hold it; only then does it get a transport here. A key the
   * servers do not know costs that round trip and gets 404, as on the instance that never had it.
   */
  function adopt(key: string, req: Request): Promise<Adoption> {
    let adoption = adoptions.get(key);
    if (adoption === undefined) {
      adoption = adoptNow(key, req).finally(() => adoptions.delete(key));
      adoptions.set(key, adoption);
    }
    return adoption;
  }

  async function adoptNow(key: string, req: Request): Promise<Adoption> {
    if (closing)
      return {
        status: 'refused',
        httpStatus: 503,
        message: 'Service unavailable: the gateway is shutting down',
      };
    if (!sessions.hasRoom()) {
      metrics.sessionsRejected.inc({ reason: 'limit' });
      return {
        status: 'refused',
        httpStatus: 503,
        message: `Service unavailable: session limit reached (${sessions.maxSessions})`,
      };
    }
    const named = req.header('mcp-protocol-version');
    // An unsupported version is the SDK transport's to refuse (400) once the session is here.
    const protocolVersion =
      named !== undefined && SUPPORTED_PROTOCOL_VERSIONS.includes(named) ? named : undefined;
    let session: GatewaySession;
    try {
      session = await buildSession(key, { protocolVersion });
    } catch (error) {
      metrics.sessionsRejected.inc({ reason: 'backend' });
      logger.error({ err: describeError(error) }, 'could not open a backend session');
      return { status: 'refused', httpStatus: 503, message: `Backend unavailable: ${describeError(error)}` };
    }
    const confirmed = await confirmSession(session.back, {
      timeoutMs: Math.min(
        options.requestTimeoutMs ?? PROXY_DEFAULTS.adoptTimeoutMs,
        PROXY_DEFAULTS.adoptTimeoutMs,
      ),
    });
    if (confirmed.status === 'held') {
      metrics.sessionsAdopted.inc({ outcome: 'adopted' });
      session.log.info({ backend: backend.name }, 'session adopted from another gateway instance');
      return { status: 'adopted', session };
    }
    discard(session);
    session.back.keepServerSession?.();
    await session.bridge.close();
    if (confirmed.status === 'unknown') {
      metrics.sessionsAdopted.inc({ outcome: 'unknown' });
      return { status: 'refused', httpStatus: 404, message: `Session not found: ${key}` };
    }
    metrics.sessionsAdopted.inc({ outcome: 'unconfirmed' });
    session.log.warn({ detail: confirmed.detail }, 'session of another instance could not be confirmed');
    return {
      status: 'refused',
      httpStatus: 503,
      message: `Service unavailable: the servers did not confirm the session: ${confirmed.detail}`,
    };
  }

  function forwardExisting(req: Request, res: Response): Promise<void> | void {
    const sessionId = req.header('mcp-session-id');
    if (sessionId === undefined) {
      return void res.status(400).json(httpError(-32000, 'Bad Request: Mcp-Session-Id header is required'));
    }
    return forward(sessionId, req, res);
  }

  let server: HttpServer | undefined;

  return {
    app,
    metrics,
    sessionIds: () => [...sessions.ids()],
    listen() {
      return new Promise((resolve, reject) => {
        const listening = createLimitedHttpServer(app, httpLimits);
        listening.listen(options.port ?? PROXY_DEFAULTS.port, host, () => {
          const { port } = listening.address() as AddressInfo;
          const shownHost = host.includes(':') ? `[${host}]` : host;
          const url = `http://${shownHost}:${port}${path}`;
          logger.info({ url, backend: backend.name }, 'gateway listening');
          resolve({ url, port });
        });
        listening.on('error', reject);
        server = listening;
      });
    },
    async close() {
      if (closing) return;
      closing = true;
      server?.close();
      const all = [...sessions.entries()].map(([, session]) => session);
      const drained = Promise.allSettled(all.map((session) => session.bridge.whenIdle()));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        drained,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.shutdownTimeoutMs ?? 10_000);
        }),
      ]);
      clearTimeout(timer);
      await Promise.allSettled(
        all.map((session) => endSession(session, 'shutdown', 'the gateway shut down')),
      );
      sessions.dispose();
      await backend.close();
      server?.closeAllConnections();
      logger.info({}, 'gateway stopped');
    },
  };
}
