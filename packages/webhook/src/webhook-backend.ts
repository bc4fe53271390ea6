import { randomBytes } from 'node:crypto';
import {
  type Backend,
  type BackendFleet,
  type BackendHttpRoute,
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
 * A gateway backend that receives on HTTP: the gateway mounts `handleWebhook` at `webhookPath` on its
 * own HTTP server (for every method and every path below it), and each session's webhook URL is
 * `${webhookBaseUrl}${webhookPath}/${route}` — one path per session, so every delivery reaches exactly
 * the session it is for, and many sessions share one backend. The route is a secret of the session's
 * own, like the session id proposed to the server: neither is the gateway's key for the session (its
 * HTTP `Mcp-Session-Id`), and neither tells the key or the other one.
 */
export interface WebhookRouteBackend<N extends string = string> extends Backend {
  readonly name: N;
  /** Where the gateway mounts `handleWebhook`, e.g. `/webhooks`; sessions use the paths below it. */
  readonly webhookPath: string;
  /** The Node handler for every request under `webhookPath`. */
  readonly handleWebhook: NodeRequestHandler;
  /** The webhook URL of the session answered on `route` (each session's route is its own secret). */
  webhookUrlFor(route: string): string;
  readonly stats: Readonly<WebhookBackendStats>;
  /** Resolves when the server's endpoint answers HTTP at all; rejects with the reason otherwise. */
  checkReady(): Promise<void>;
}

interface RouteBackendOptions {
  /** The async MCP server's endpoint. */
  serverUrl: string | URL;
  /**
   * The public base URL at which this gateway instance's HTTP server is reachable by the server, e.g.
   * `https://gateway-1.internal.example.com`. A path in it is kept (for a reverse proxy that strips it).
   */
  webhookBaseUrl: string | URL;
  /** The path the gateway mounts the backend's route at. @default '/webhooks' */
  webhookPath?: string;
  /** Verify (and, for `webhookBackend`, sign) with Standard Webhooks headers. @default unsigned */
  signingSecret?: WebhookSecret;
  /** @default globalThis.fetch */
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
 * const backend = webhookBackend({ serverUrl: 'http://mcp:8000/mcp/request', webhookBaseUrl: 'http://gateway:3000' });
 * app.all(`${backend.webhookPath}/*key`, backend.handleWebhook); // or app.use(backend.webhookPath, …)
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
  readonly webhookPath: string;
  readonly stats: WebhookBackendStats = { sessions: 0, routed: 0, refused: 0, unroutable: 0 };
  readonly #base: string;
  readonly #serverUrl: URL;
  readonly #fetch: FetchLike;
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
    this.fleet =
      fleetIds === undefined
        ? undefined
        : { mintSessionKey: () => fleetIds.mint(), mayAdopt: (key) => fleetIds.mayAdopt(key) };
    try {
      this.#serverUrl = new URL(String(options.serverUrl));
      this.#base = new URL(String(options.webhookBaseUrl)).href.replace(/\/+$/, '');
    } catch {
      throw new ConfigurationError(`${name}Backend needs a valid serverUrl and webhookBaseUrl`);
    }
    const path = `/${(options.webhookPath ?? WEBHOOK_DEFAULTS.webhookPath).replace(/^\/+|\/+$/g, '')}`;
    if (path === '/' || /[?#]/.test(path)) {
      throw new ConfigurationError(`webhookPath must be a path below the root, got "${options.webhookPath}"`);
    }
    this.webhookPath = path;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#logger = options.logger ?? silentLogger;
    this.#make = make;
  }

  /** The route in the form of core's `Backend` contract, so the gateway mounts it without knowing us. */
  get httpRoute(): BackendHttpRoute {
    return { path: this.webhookPath, handle: this.handleWebhook };
  }

  webhookUrlFor(route: string): string {
    return `${this.#base}${this.webhookPath}/${encodeURIComponent(route)}`;
  }

  async createTransport(context: BackendTransportContext): Promise<Transport> {
    if (this.#closed) throw new TransportStateError('closed', 'backend');
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
      webhookUrl: this.webhookUrlFor(route),
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

  readonly handleWebhook: NodeRequestHandler = async (req, res) => {
    const path = requestPath(req);
    const prefix = `${this.webhookPath}/`;
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
  };

  async checkReady(): Promise<void> {
    try {
      // Any HTTP answer (a 405 to OPTIONS, say) shows the endpoint is there.
      const response = await this.#fetch(this.#serverUrl, {
        method: 'OPTIONS',
        redirect: 'manual',
        signal: AbortSignal.timeout(5000),
      });
      await response.body?.cancel();
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
