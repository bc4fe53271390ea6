import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  Backend,
  BackendFleet,
  BackendHttpRoute,
  BackendTransportContext,
  Transport,
} from '@asyncmcp/core';
import { TransportStateError } from '@asyncmcp/core';
import type { WebhookBackendStats, WebhookRouteBackend } from '@asyncmcp/webhook';

const NO_STATS: Readonly<WebhookBackendStats> = { sessions: 0, routed: 0, refused: 0, unroutable: 0 };
const NOT_LISTENING = (name: string) =>
  `the ${name} backend has no webhook address yet: the gateway is not listening`;

/**
 * A webhook or hybrid backend whose webhook base URL is the gateway's own listening address, known only
 * once the gateway listens (with `--port 0`, the port is the system's choice). The gateway mounts its
 * route at construction, as for any backend; `bind(origin)` then makes the library backend, and every
 * call goes to it. No session can open before: the gateway only takes requests once it listens.
 */
export class ListeningRouteBackend<N extends 'webhook' | 'hybrid'> implements Backend {
  readonly specificationVersion = 'v1' as const;
  readonly name: N;
  readonly httpRoute: BackendHttpRoute;
  /**
   * The library backend's fleet. The gateway reads it at construction, before there is a library
   * backend, so it is here from the start and asks the library backend once bound: `webhookBackend`
   * serves a fleet, `hybridBackend` does not (its server's session stays with one instance). Without
   * it, a gateway would keep sessions at the server that no instance could serve again.
   */
  readonly fleet: BackendFleet | undefined;
  readonly #build: (webhookBaseUrl: string) => WebhookRouteBackend<N>;
  #inner: WebhookRouteBackend<N> | undefined;
  #baseUrl: string | undefined;
  #closed = false;

  constructor(name: N, webhookPath: string, build: (webhookBaseUrl: string) => WebhookRouteBackend<N>) {
    this.name = name;
    this.#build = build;
    this.httpRoute = { path: webhookPath, handle: (req, res) => this.#handle(req, res) };
    this.fleet =
      name === 'webhook'
        ? {
            mintSessionKey: () => {
              const fleet = this.#inner?.fleet;
              if (fleet === undefined) throw new Error(NOT_LISTENING(name));
              return fleet.mintSessionKey();
            },
            mayAdopt: (key) => this.#inner?.fleet?.mayAdopt(key) ?? false,
          }
        : undefined;
  }

  /** The base URL of the sessions' webhooks, once bound. */
  get webhookBaseUrl(): string | undefined {
    return this.#baseUrl;
  }

  /** The library backend, once bound. */
  get inner(): WebhookRouteBackend<N> | undefined {
    return this.#inner;
  }

  /** Makes the backend with `origin` (the gateway's `http://host:port`) as its webhook base URL; once. */
  bind(origin: string): void {
    if (this.#inner !== undefined || this.#closed) return;
    this.#inner = this.#build(origin);
    this.#baseUrl = origin;
  }

  get stats(): Readonly<Record<string, number>> {
    return this.#inner?.stats ?? NO_STATS;
  }

  async createTransport(context: BackendTransportContext): Promise<Transport> {
    if (this.#closed) throw new TransportStateError('closed', 'backend');
    if (this.#inner === undefined) throw new Error(NOT_LISTENING(this.name));
    return this.#inner.createTransport(context);
  }

  checkReady(): Promise<void> {
    if (this.#inner === undefined) {
      return Promise.reject(
        new Error('the gateway is not listening yet, so the server has no webhook to call'),
      );
    }
    return this.#inner.checkReady();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#inner?.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#inner === undefined) {
      // Cannot happen while the gateway listens; answered like a delivery for no live session.
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Session not found"}');
      return;
    }
    await this.#inner.handleWebhook(req, res);
  }
}
