import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ConfigurationError,
  JsonRpcErrorCode,
  jsonRpcError,
  type Logger,
  parseError,
  type ServerFactory,
  type SessionLimits,
  silentLogger,
} from '@asyncmcp/core';
import { WebhookDeliverer, type WebhookDeliveryOptions } from './webhook-deliverer.js';
import {
  type BodyResult,
  DEFAULT_MAX_BODY_BYTES,
  type ListenOptions,
  type NodeRequestHandler,
  type RunningHttpServer,
  readBody,
  sendJson,
  startHttpServerAt,
} from './webhook-http.js';

/** The options every webhook server manager takes, whichever way it carries messages. */
export interface HttpSessionManagerOptions extends WebhookDeliveryOptions, SessionLimits {
  /** Makes the MCP server of each new session (`() => new McpServer(...)` with its tools registered). */
  createServer: ServerFactory;
  /** The endpoint's path when `listen()` serves it. */
  path?: string;
  /** Largest request body read. @default 4 MiB */
  maxBodyBytes?: number;
  logger?: Logger;
  onsessioninitialized?: (sessionId: string) => void;
  onsessionclosed?: (sessionId: string) => void;
}

export interface ManagerEndpointOptions extends WebhookDeliveryOptions {
  /** Where `listen()` serves the handler. */
  path: string;
  handler: NodeRequestHandler;
  logger: Logger;
  /** @default 4 MiB */
  maxBodyBytes?: number | undefined;
}

/** A body that was read: its bytes, or the value a body parser mounted before the handler made of them. */
export type ReadBody = Extract<BodyResult, { kind: 'raw' | 'parsed' }>;

/**
 * The HTTP side every webhook server manager has: its endpoint (mounted, or on a server of its own via
 * `listen()`), the webhook deliveries it makes, the bodies it reads, and the requests it refuses.
 */
export class ManagerEndpoint {
  readonly deliverer: WebhookDeliverer;
  readonly #options: ManagerEndpointOptions;
  #listener: RunningHttpServer | undefined;
  #requestsRefused = 0;

  /** The endpoint of the manager called `manager`, once its options are checked. */
  static of(
    manager: string,
    options: HttpSessionManagerOptions,
    serve: { path: string; handler: NodeRequestHandler },
  ): ManagerEndpoint {
    if (typeof options.createServer !== 'function') {
      throw new ConfigurationError(`${manager} needs createServer`);
    }
    const logger = options.logger ?? silentLogger;
    return new ManagerEndpoint({
      ...options,
      path: options.path ?? serve.path,
      handler: serve.handler,
      logger,
    });
  }

  constructor(options: ManagerEndpointOptions) {
    this.#options = options;
    this.deliverer = new WebhookDeliverer(options);
  }

  get logger(): Logger {
    return this.#options.logger;
  }

  /** The endpoint's URL once `listen()` has bound it. */
  get url(): string | undefined {
    return this.#listener ? `${this.#listener.origin}${this.#options.path}` : undefined;
  }

  /** Requests refused before reaching a session (any reason). */
  get requestsRefused(): number {
    return this.#requestsRefused;
  }

  /** Binds the server; a manager has at most one. Resolves with the endpoint's URL. */
  async listen(options: ListenOptions): Promise<string> {
    if (this.#listener) throw new Error('The manager is already listening');
    const { path, handler, logger } = this.#options;
    this.#listener = await startHttpServerAt(path, handler, options, logger);
    return this.url as string;
  }

  /** Answers a request that goes no further, and counts it. */
  refuse(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
    this.#requestsRefused++;
    sendJson(res, status, body, headers);
  }

  /** Reads a request's body; one too large or already consumed is refused here (undefined). */
  async readBody(req: IncomingMessage, res: ServerResponse): Promise<ReadBody | undefined> {
    const body = await readBody(req, this.#options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    if (body.kind === 'too-large') {
      this.refuse(res, 413, jsonRpcError(JsonRpcErrorCode.InvalidRequest, 'Request body too large'));
      return undefined;
    }
    if (body.kind === 'consumed') {
      this.refuse(res, 400, parseError('the request body was already read by another handler'));
      return undefined;
    }
    return body;
  }

  /** Stops delivering (what is queued is given up) and listening. */
  async close(): Promise<void> {
    await this.deliverer.close();
    await this.#listener?.close();
  }
}
