import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AsyncMcpError,
  AsyncMcpErrorCode,
  type Backend,
  type BackendFleet,
  type BackendHttpRoute,
  type BackendListeningAddress,
  type BackendTransportContext,
  ConfigurationError,
  DeliveryError,
  describeError,
  FleetSessionIds,
  generateSessionId,
  type Logger,
  SessionTable,
  sessionLogId,
  silentLogger,
  type Transport,
  TransportStateError,
  unguessable,
} from '@asyncmcp/core';
import type { StreamableHTTPReconnectionOptions } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { StreamableHttpWebhookClientTransport } from './hybrid-client-transport.js';
import { type ServerExchange, serverExchange } from './server-exchange.js';
import { type ClientTransportHooks, WebhookClientTransport } from './webhook-client-transport.js';
import { WEBHOOK_DEFAULTS } from './webhook-defaults.js';
import { WebhookHeader } from './webhook-headers.js';
import { type NodeRequestHandler, redactUrl, requestPath, sendJson } from './webhook-http.js';
import type { WebhookSecret } from './webhook-signing.js';

export interface WebhookBackendStats {
  /** Live gateway sessions of this backend. */
  sessions: number;
  /** Deliveries handed to a live session (and taken by it). */
  routed: number;
  /** Deliveries a live session refused (bad body or signature, another session's id …). */
  refused: number;
  /** Deliveries for no live session (late, after close, a wrong path): answered 404, dropped. */
  unroutable: number;
}

/**
 * A gateway backend that receives on HTTP: its one route, `httpRoute`, takes every delivery (every
 * method, every path below `httpRoute.path`), and each session's webhook URL is
 * `${webhookBaseUrl}${httpRoute.path}/${route}` — one path per session, so every delivery reaches exactly
 * the session it is for, and many sessions share one backend. The route is a secret of the session's
 * own, like the session id proposed to the server: neither is the gateway's key for the session (its
 * HTTP `Mcp-Session-Id`), and neither tells the key or the other one.
 *
 * The asyncmcp gateway serves `httpRoute` itself. On a server of your own, hand it every request for
 * `httpRoute.path` and below: `app.use(backend.httpRoute.path, (req, res) => backend.httpRoute.handle(req, res))`.
 */
export interface WebhookRouteBackend<N extends string = string> extends Backend {
  readonly name: N;
  /** The route that receives the deliveries, e.g. `/webhooks`; each session has a path below it. */
  readonly httpRoute: BackendHttpRoute;
  /**
   * The base of every session's webhook URL: the configured `webhookBaseUrl`, or, left out, the address
   * the gateway listens on once it says so (`listening`); undefined until then.
   */
  readonly webhookBaseUrl: string | undefined;
  readonly stats: Readonly<WebhookBackendStats>;
  /** Resolves when the server's endpoint answers HTTP at all; rejects with the reason otherwise. */
  checkReady(): Promise<void>;
  /** Takes the gateway's address as the base URL, unless one was configured; logs where webhooks arrive. */
  listening(address: BackendListeningAddress): void;
}

interface RouteBackendOptions {
  /** The async MCP server's endpoint. */
  serverUrl: string | URL;
  /**
   * The public base URL at which this gateway instance's HTTP server is reachable by the server, e.g.
   * `https://gateway-1.internal.example.com`. A path in it is kept (for a reverse proxy that strips it).
   * Left out, it is the address the gateway listens on, which it tells the backend (`listening`) before
   * the first session: right when the server runs on the same machine, or names the gateway the same way.
   * @default the gateway's listening address
   */
  webhookBaseUrl?: string | URL;
  /** The path of the backend's route (`httpRoute.path`). @default '/webhooks' */
  webhookPath?: string;
  /** Verify (and, for `webhookBackend`, sign) with Standard Webhooks headers. @default unsigned */
  signingSecret?: WebhookSecret;
  /**
   * Sends the requests to the server with this `fetch` (a proxy, a test double). Without it they go with
   * Node's own HTTP client on its keep-alive agent, at a fraction of `fetch`'s CPU per request.
   * @default Node's `http`/`https` client
   */
  fetch?: FetchLike;
  /** Largest delivery read. @default 4 MiB */
  maxBodyBytes?: number;
  logger?: Logger;
  /** Clock in milliseconds for signatures; replace it in tests. @default Date.now */
  now?: () => number;
}

export interface WebhookBackendOptions extends RouteBackendOptions {
  /** Sent as `X-Client-ID` on every message. @default 'asyncmcp-gateway-' plus random hex */
  clientId?: string;
  /** Extra headers on every request to the server, e.g. `Authorization`. */
  headers?: Readonly<Record<string, string>>;
  /** Bound on each POST/DELETE to the server. @default 30000 */
  requestTimeoutMs?: number;
}

export interface HybridBackendOptions extends RouteBackendOptions {
  /** Sent as `X-Client-ID`. @default 'asyncmcp-gateway-' plus random hex */
  clientId?: string;
  /** Passed to the SDK's `StreamableHTTPClientTransport` (headers such as `Authorization` go here). */
  requestInit?: RequestInit;
  reconnectionOptions?: StreamableHTTPReconnectionOptions;
}

export type WebhookBackend = WebhookRouteBackend<'webhook'>;
export type HybridBackend = WebhookRouteBackend<'hybrid'>;

/**
 * The gateway backend for webhook servers (PROTOCOL.md §3), for one gateway instance or a fleet of them
 * (PROTOCOL.md §7b): each session's proposed session id and its path below `webhookPath` are one-way
 * functions of the gateway's session key (keyed by `signingSecret` when there is one), so every instance
 * of the fleet computes them, and any instance serves any session the servers hold. Each request names
 * the webhook of the instance that sends it, so its answer comes back there; give every instance its
 * own `webhookBaseUrl`. Sessions of a fleet need a server that adopts the proposed session id (ours and
 * Python's do).
 *
 * @example
 * const backend = webhookBackend({ serverUrl: 'http://mcp:8000/mcp/request' });
 * await createProxyServer({ backend }).listen(); // serves backend.httpRoute, tells the backend its address
 */
export function webhookBackend(options: WebhookBackendOptions): WebhookBackend {
  const clientId = options.clientId ?? gatewayClientId();
  const fleetIds = new FleetSessionIds({ secret: options.signingSecret });
  return new RouteBackend(
    'webhook',
    options,
    ({ proposedSessionId, webhookUrl, logger, hooks, adopted }) => {
      const transport = new WebhookClientTransport(
        {
          serverUrl: options.serverUrl,
          webhookUrl,
          clientId,
          proposedSessionId,
          // Opened through another instance: the server holds it under the id every instance derives.
          sessionId: adopted === undefined ? undefined : proposedSessionId,
          signingSecret: options.signingSecret,
          headers: options.headers,
          fetch: options.fetch,
          requestTimeoutMs: options.requestTimeoutMs,
          maxBodyBytes: options.maxBodyBytes,
          logger,
          now: options.now,
        },
        hooks,
      );
      if (adopted?.protocolVersion !== undefined) transport.setProtocolVersion(adopted.protocolVersion);
      return transport;
    },
    fleetIds,
  );
}

/**
 * The gateway backend for StreamableHTTP + webhook servers (PROTOCOL.md §4): the SDK's Streamable HTTP
 * client per session, with webhook-tool answers received on the session's own random path below
 * `webhookPath`.
 *
 * It has no `fleet`: each instance serves only the sessions it opened. The server's side of a session
 * is its own Streamable HTTP session (its `Mcp-Session-Id`, and the SSE streams it holds open to the
 * instance that opened it), which another instance cannot take over; behind a load balancer, keep each
 * client with one instance (affinity on `Mcp-Session-Id`).
 */
export function hybridBackend(options: HybridBackendOptions): HybridBackend {
  const clientId = options.clientId ?? gatewayClientId();
  return new RouteBackend('hybrid', options, ({ proposedSessionId, webhookUrl, logger, hooks }) => {
    // The session id the gateway proposes (PROTOCOL.md §7): a hybrid server may adopt it, others ignore it.
    const headers = new Headers(options.requestInit?.headers);
    headers.set(WebhookHeader.SessionId, proposedSessionId);
    return new StreamableHttpWebhookClientTransport(
      {
        serverUrl: options.serverUrl,
        webhookUrl,
        clientId,
        signingSecret: options.signingSecret,
        fetch: options.fetch,
        requestInit: { ...options.requestInit, headers },
        reconnectionOptions: options.reconnectionOptions,
        maxBodyBytes: options.maxBodyBytes,
        logger,
        now: options.now,
      },
      hooks,
    );
  });
}

/** A base URL as sessions' webhook URLs start: absolute, no trailing slash. */
function baseUrl(value: string | URL): string {
  return new URL(String(value)).href.replace(/\/+$/, '');
}

function gatewayClientId(): string {
  return `asyncmcp-gateway-${randomBytes(4).toString('hex')}`;
}

type RoutedTransport = Transport & { readonly handleWebhook: NodeRequestHandler };

interface TransportInput {
  proposedSessionId: string;
  webhookUrl: string;
  logger: Logger;
  hooks: ClientTransportHooks;
  /** Only for a backend with a fleet: the session is open at the server already. */
  adopted: BackendTransportContext['adopted'];
}

type MakeTransport = (input: TransportInput) => RoutedTransport;

class RouteBackend<N extends string> implements WebhookRouteBackend<N> {
  readonly specificationVersion = 'v1' as const;
  readonly name: N;
  readonly httpRoute: BackendHttpRoute;
  readonly stats: WebhookBackendStats = { sessions: 0, routed: 0, refused: 0, unroutable: 0 };
  /** Without a configured base URL, undefined until the gateway says where it listens. */
  #base: string | undefined;
  readonly #path: string;
  readonly #serverUrl: URL;
  readonly #exchange: ServerExchange;
  readonly #logger: Logger;
  readonly #make: MakeTransport;
  /** Live sessions by gateway key, and by their route (the last segment of their webhook path). */
  readonly #sessions = new SessionTable<RoutedTransport, 'route'>();
  /** Derives each session's route and session id from its key, when any instance may serve it. */
  readonly #fleetIds: FleetSessionIds | undefined;
  readonly fleet: BackendFleet | undefined;
  #closed = false;

  constructor(name: N, options: RouteBackendOptions, make: MakeTransport, fleetIds?: FleetSessionIds) {
    this.name = name;
    this.#fleetIds = fleetIds;
    // No session opens before the backend has an address, so none is minted or adopted before either.
    this.fleet =
      fleetIds === undefined
        ? undefined
        : {
            mintSessionKey: () => {
              this.#addressed();
              return fleetIds.mint();
            },
            mayAdopt: (key) => this.#base !== undefined && fleetIds.mayAdopt(key),
          };
    try {
      this.#serverUrl = new URL(String(options.serverUrl));
      this.#base = options.webhookBaseUrl === undefined ? undefined : baseUrl(options.webhookBaseUrl);
    } catch {
      throw new ConfigurationError(`${name}Backend needs a valid serverUrl and webhookBaseUrl`);
    }
    const path = `/${(options.webhookPath ?? WEBHOOK_DEFAULTS.webhookPath).replace(/^\/+|\/+$/g, '')}`;
    if (path === '/' || /[?#]/.test(path)) {
      throw new ConfigurationError(`webhookPath must be a path below the root, got "${options.webhookPath}"`);
    }
    this.#path = path;
    this.httpRoute = { path, handle: (req, res) => this.#handleDelivery(req, res) };
    this.#exchange = serverExchange(options.fetch);
    this.#logger = options.logger ?? silentLogger;
    this.#make = make;
  }

  get webhookBaseUrl(): string | undefined {
    return this.#base;
  }

  listening(address: BackendListeningAddress): void {
    // A configured base URL wins (a reverse proxy, another host name); the first address is kept.
    this.#base ??= baseUrl(address.origin);
    this.#logger.info(
      { backend: this.name, webhookUrl: `${this.#base}${this.#path}/<session>` },
      'receiving webhooks',
    );
  }

  /** The base URL, or the error of a backend asked for a session before it has one. */
  #addressed(): string {
    if (this.#base === undefined) {
      throw new AsyncMcpError({
        code: AsyncMcpErrorCode.TransportNotStarted,
        message: `the ${this.name} backend has no webhook address yet: the gateway is not listening`,
      });
    }
    return this.#base;
  }

  async createTransport(context: BackendTransportContext): Promise<Transport> {
    if (this.#closed) throw new TransportStateError('closed', 'backend');
    const base = this.#addressed();
    this.#sessions.assertVacant(context.sessionKey);
    if (context.adopted !== undefined && this.#fleetIds === undefined) {
      throw new ConfigurationError(`The ${this.name} backend cannot adopt sessions of other instances`);
    }
    const key = context.sessionKey;
    // The path deliveries come to, and the session id proposed to the server: in a fleet, one-way
    // functions of the key that every instance computes alike; otherwise secrets of their own.
    const route = this.#fleetIds?.routeOf(key) ?? unguessable();
    const proposedSessionId = this.#fleetIds?.queueSessionIdOf(key) ?? generateSessionId('hex');
    const transport = this.#make({
      proposedSessionId,
      webhookUrl: `${base}${this.#path}/${encodeURIComponent(route)}`,
      logger: context.logger ?? this.#logger,
      adopted: context.adopted,
      hooks: {
        onclosed: () => {
          if (this.#sessions.remove(key, transport)) this.stats.sessions = this.#sessions.size;
        },
      },
    });
    this.#sessions.add(key, transport, { route });
    this.stats.sessions = this.#sessions.size;
    return transport;
  }

  async #handleDelivery(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req);
    const prefix = `${this.#path}/`;
    const encoded = path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
    let route: string | undefined;
    try {
      route =
        encoded !== undefined && encoded !== '' && !encoded.includes('/')
          ? decodeURIComponent(encoded)
          : undefined;
    } catch {
      route = undefined;
    }
    const session = route === undefined ? undefined : this.#sessions.find('route', route);
    if (!session) {
      this.stats.unroutable++;
      // The path's last segment is a session's secret route: logged as its digest, never as it is.
      this.#logger.warn(
        route === undefined
          ? { path, method: req.method }
          : { sessionRoute: sessionLogId(route), method: req.method },
        'webhook delivery for no live gateway session dropped',
      );
      // Drain the body so the connection stays usable, then say so.
      req.resume();
      return sendJson(res, 404, { error: 'Session not found' });
    }
    await session.handleWebhook(req, res);
    if (res.statusCode === 200) this.stats.routed++;
    else this.stats.refused++;
  }

  async checkReady(): Promise<void> {
    if (this.#base === undefined) {
      throw new DeliveryError({
        message: `The ${this.name} server has no webhook to call: the gateway is not listening yet`,
      });
    }
    try {
      // Any HTTP answer (a 405 to OPTIONS, say) shows the endpoint is there.
      await this.#exchange(this.#serverUrl, {
        method: 'OPTIONS',
        headers: {},
        timeoutMs: 5000,
        maxAnswerBytes: 0,
      });
    } catch (error) {
      throw new DeliveryError({
        message: `The ${this.name} server at ${redactUrl(this.#serverUrl)} cannot be reached: ${describeError(error)}`,
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sessions.closeAll((transport) => transport.close());
    this.stats.sessions = 0;
  }
}
