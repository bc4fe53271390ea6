import { randomUUID } from 'node:crypto';
import {
  ConfigurationError,
  isRequest,
  type JSONRPCMessage,
  type Logger,
  sessionLogId,
  settleWithin,
  silentLogger,
  systemClock,
  type Transport,
  type TransportSendOptions,
  TransportStateError,
  toError,
  WireIds,
} from '@asyncmcp/core';
import {
  StreamableHTTPClientTransport,
  type StreamableHTTPReconnectionOptions,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type ClientWebhookCommonOptions,
  ClientWebhookEndpoint,
  type ClientWebhookEndpointStats,
  type WebhookListenOptions,
} from './client-webhook-endpoint.js';
import type { ClientTransportHooks } from './webhook-client-transport.js';
import { WEBHOOK_DEFAULTS } from './webhook-defaults.js';
import { WebhookHeader } from './webhook-headers.js';
import { headerValue, type NodeRequestHandler } from './webhook-http.js';
import type { WebhookSecret } from './webhook-signing.js';

export interface StreamableHttpWebhookClientTransportOptions extends ClientWebhookCommonOptions {
  /** The server's Streamable HTTP endpoint, e.g. `https://mcp.example.com/mcp`. */
  serverUrl: string | URL;
  /** Where the server POSTs webhook-tool answers; named in `initialize` as `_meta.webhookUrl`. */
  webhookUrl?: string | URL;
  /** Start a receiver of our own; without it, mount `handleWebhook` where `webhookUrl` points. */
  listen?: WebhookListenOptions;
  /** Verify Standard Webhooks signatures on deliveries. @default unsigned */
  signingSecret?: WebhookSecret;
  /** Sent as `X-Client-ID`, as Python asyncmcp hybrid clients do. @default a random UUID */
  clientId?: string;
  /** Passed to the SDK's `StreamableHTTPClientTransport` (headers such as `Authorization` go here). */
  requestInit?: RequestInit;
  reconnectionOptions?: StreamableHTTPReconnectionOptions;
  /** Resume an existing Streamable HTTP session. */
  sessionId?: string;
  /**
   * Longest `close()` waits for the server to end the session (HTTP DELETE); past it the DELETE is
   * aborted and the close goes on. @default WEBHOOK_DEFAULTS.closeTimeoutMs (5,000)
   */
  closeTimeoutMs?: number;
}

/**
 * The client of the StreamableHTTP + webhook hybrid (PROTOCOL.md §4): the SDK's own
 * `StreamableHTTPClientTransport` for everything on the HTTP side, merged with a webhook receiver into
 * one SDK `Transport`. `_meta.webhookUrl` is added to `initialize`; answers of webhook tools arrive on
 * the receiver and reach the SDK exactly once, even when a fallback also sends them on the stream.
 */
export class StreamableHttpWebhookClientTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  readonly #options: StreamableHttpWebhookClientTransportOptions;
  readonly #hooks: ClientTransportHooks;
  readonly #http: StreamableHTTPClientTransport;
  readonly #endpoint: ClientWebhookEndpoint;
  readonly #logger: Logger;
  /** Unguessable request ids on the wire: a webhook answer must carry one minted here. */
  readonly #wire = new WireIds();
  #started = false;
  #closed = false;
  #closeFired = false;

  constructor(options: StreamableHttpWebhookClientTransportOptions, hooks: ClientTransportHooks = {}) {
    let serverUrl: URL;
    let webhookUrl: string | undefined;
    try {
      serverUrl = new URL(String(options.serverUrl));
      if (options.webhookUrl !== undefined) webhookUrl = new URL(String(options.webhookUrl)).href;
    } catch {
      throw new ConfigurationError('serverUrl and webhookUrl must be valid URLs');
    }
    if (webhookUrl === undefined && !options.listen) {
      throw new ConfigurationError(
        'StreamableHttpWebhookClientTransport needs a webhookUrl (or listen, to start a receiver)',
      );
    }
    this.#options = options;
    this.#hooks = hooks;
    this.#logger = options.logger ?? silentLogger;
    const headers = new Headers(options.requestInit?.headers);
    if (!headers.has(WebhookHeader.ClientId))
      headers.set(WebhookHeader.ClientId, options.clientId ?? randomUUID());
    this.#http = new StreamableHTTPClientTransport(serverUrl, {
      requestInit: { ...options.requestInit, headers },
      fetch: options.fetch,
      reconnectionOptions: options.reconnectionOptions,
      sessionId: options.sessionId,
    });
    this.#endpoint = new ClientWebhookEndpoint({
      webhookUrl,
      listen: options.listen,
      signingSecret: options.signingSecret,
      maxBodyBytes: options.maxBodyBytes,
      now: options.now,
      logger: this.#logger,
      transport: this,
      closed: () => this.#closed,
      otherSession: (_message, received) => {
        const named = headerValue(received, WebhookHeader.McpSessionId);
        const own = this.#http.sessionId;
        return named !== undefined && own !== undefined && named !== own ? { named, own } : undefined;
      },
      restore: (message) => {
        const inbound = this.#wire.inbound(message);
        return inbound.status === 'deliver' ? inbound.message : undefined;
      },
      clientIdOf: (wireId) => this.#wire.clientIdOf(wireId),
    });
  }

  /** The Node handler that receives the server's webhook POSTs; mount it where `webhookUrl` points. */
  readonly handleWebhook: NodeRequestHandler = (req, res) => this.#endpoint.handle(req, res);

  get sessionId(): string | undefined {
    return this.#http.sessionId;
  }

  /** The URL named to the server in `initialize`; with `listen` on port 0, known once started. */
  get webhookUrl(): string | undefined {
    return this.#endpoint.url;
  }

  get stats(): Readonly<ClientWebhookEndpointStats> {
    return this.#endpoint.stats;
  }

  setProtocolVersion(version: string): void {
    this.#http.setProtocolVersion(version);
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('The transport is already started');
    if (this.#closed) throw new TransportStateError('closed');
    this.#started = true;
    await this.#endpoint.listen();
    this.#http.onmessage = (message) => this.#endpoint.deliver(message);
    this.#http.onerror = (error) => this.onerror?.(error);
    this.#http.onclose = () => void this.close();
    await this.#http.start();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#closed) throw new TransportStateError('closed');
    if (!this.#started) throw new TransportStateError('not-started');
    const wire = this.#wire.outbound(this.#endpoint.named(message));
    if (isRequest(wire)) this.#endpoint.ledger.sent(wire.id);
    try {
      await this.#http.send(wire, options);
    } catch (error) {
      if (isRequest(wire)) {
        this.#endpoint.ledger.abandoned(wire.id);
        this.#wire.discard(wire.id);
      }
      throw error;
    }
  }

  /** Ends the session on the server (HTTP DELETE), as the SDK transport does. */
  terminateSession(): Promise<void> {
    return this.#http.terminateSession();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if ((this.#options.terminateOnClose ?? true) && this.#http.sessionId !== undefined) {
      let ended = false;
      const ending = this.#http
        .terminateSession()
        .catch((error: unknown) => {
          this.#logger.warn(
            { sessionId: sessionLogId(this.sessionId), err: toError(error).message },
            'could not end the session',
          );
        })
        .finally(() => {
          ended = true;
        });
      const timeoutMs = this.#options.closeTimeoutMs ?? WEBHOOK_DEFAULTS.closeTimeoutMs;
      await settleWithin([ending], timeoutMs, systemClock);
      // Still out: the SDK transport's close below aborts the DELETE with every other request of it.
      if (!ended) {
        this.#logger.warn(
          { sessionId: sessionLogId(this.sessionId), timeoutMs },
          'the server did not end the session in time; closing without it',
        );
      }
    }
    await this.#http.close();
    await this.#endpoint.close();
    this.#hooks.onclosed?.();
    if (!this.#closeFired) {
      this.#closeFired = true;
      this.onclose?.();
    }
  }
}
