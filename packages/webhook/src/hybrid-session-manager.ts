import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  describeError,
  internalError,
  isValidSessionId,
  type JSONRPCMessage,
  jsonRpcError,
  type Logger,
  MetaKey,
  parseError,
  type RequestId,
  readMeta,
  type SessionInfo,
  SessionLifecycle,
  type SessionLifecycleStats,
  type SessionManager,
  sessionNotFoundError,
  sessionTerminatedError,
  validationError,
} from '@asyncmcp/core';
import {
  StreamableHTTPServerTransport,
  type StreamableHTTPServerTransportOptions,
} from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { type HybridContext, HybridSession } from './hybrid-session.js';
import {
  HybridWebhookAnswers,
  type WebhookAnswerStats,
  type WebhookToolSelector,
  webhookToolPredicate,
} from './hybrid-webhook-answers.js';
import { type HttpSessionManagerOptions, ManagerEndpoint } from './manager-endpoint.js';
import { WEBHOOK_DEFAULTS } from './webhook-defaults.js';
import { WebhookHeader } from './webhook-headers.js';
import { headerValue, type ListenOptions, type NodeRequestHandler } from './webhook-http.js';

/** The options of the SDK transport each session runs on that the hybrid lets through. */
export type HybridTransportOptions = Pick<
  StreamableHTTPServerTransportOptions,
  'allowedHosts' | 'allowedOrigins' | 'enableDnsRebindingProtection' | 'keepAliveMs'
>;

export interface HybridSessionManagerOptions extends HttpSessionManagerOptions {
  /** The tools whose `tools/call` answers are POSTed to the session's webhook instead of its stream. */
  webhookTools: WebhookToolSelector;
  /**
   * What happens to an answer its webhook would not take after every retry: `stream` sends it on the
   * request's SSE stream after all; `error` ends the request there with a JSON-RPC error. Either way
   * the request ends. @default 'stream'
   */
  webhookFallback?: 'stream' | 'error';
  /** The endpoint's path when `listen()` serves it. @default '/mcp' */
  path?: string;
  /** Passed to each session's SDK `StreamableHTTPServerTransport`. */
  transportOptions?: HybridTransportOptions;
  /**
   * Take the session id a client proposes in `X-Session-ID` on `initialize` (when valid and never used
   * here), as the asyncmcp gateway does (PROTOCOL.md §7), so gateway and server name a session alike.
   * Off by default: Streamable HTTP session ids are the server's to choose, and a client could propose
   * a guessable one. @default false
   */
  adoptProposedSessionIds?: boolean;
}

export interface HybridStats extends SessionLifecycleStats, WebhookAnswerStats {
  /** HTTP requests refused before reaching a session (unknown session, bad body, limits …). */
  requestsRefused: number;
}

/**
 * The server of the StreamableHTTP + webhook hybrid (PROTOCOL.md §4): a Streamable HTTP MCP endpoint,
 * served per session by the SDK's own `StreamableHTTPServerTransport`, where the answers of the
 * configured webhook tools are POSTed to the session's `_meta.webhookUrl` instead of the request's SSE
 * stream. Progress and other messages of such a request still flow on its stream, which ends once the
 * webhook took the answer. An answer the webhook does not take after every retry falls back to the
 * stream (or becomes a JSON-RPC error there): no request is left open.
 */
export class HybridSessionManager implements SessionManager {
  readonly #options: HybridSessionManagerOptions;
  readonly #logger: Logger;
  readonly #lifecycle: SessionLifecycle<HybridSession>;
  readonly #answers: HybridWebhookAnswers;
  readonly #context: HybridContext;
  readonly #endpoint: ManagerEndpoint;
  #closed = false;

  constructor(options: HybridSessionManagerOptions) {
    this.#options = options;
    this.#endpoint = ManagerEndpoint.of('HybridSessionManager', options, {
      path: WEBHOOK_DEFAULTS.hybridEndpointPath,
      handler: (req, res) => this.handleRequest(req, res),
    });
    this.#logger = this.#endpoint.logger;
    this.#answers = new HybridWebhookAnswers({
      deliverer: this.#endpoint.deliverer,
      logger: this.#logger,
      fallback: options.webhookFallback ?? 'stream',
    });
    this.#lifecycle = new SessionLifecycle<HybridSession>({
      maxSessions: options.maxSessions,
      idleTimeoutMs: options.sessionIdleTimeoutMs,
      logger: this.#logger,
      isBusy: (session) => session.busy,
      // Ends the session's open streams; the SDK transport's `onclose` comes back here, to no effect.
      release: (session) => session.http.close(),
      onsessioninitialized: options.onsessioninitialized,
      onsessionclosed: options.onsessionclosed,
    });
    this.#context = {
      answers: this.#answers,
      isWebhookTool: webhookToolPredicate(options.webhookTools),
      touch: (sessionId) => this.#lifecycle.touch(sessionId),
      end: (session) => this.#lifecycle.end(session),
    };
  }

  /** Sessions opened and closed, answers by webhook and their fallbacks, and requests refused. */
  get stats(): HybridStats {
    return {
      ...this.#lifecycle.stats,
      ...this.#answers.stats,
      requestsRefused: this.#endpoint.requestsRefused,
    };
  }

  get sessions(): ReadonlyMap<string, SessionInfo> {
    return this.#lifecycle.sessions;
  }

  /** The endpoint's URL once `listen()` has bound it. */
  get url(): string | undefined {
    return this.#endpoint.url;
  }

  get metrics(): Record<string, number> {
    return {
      ...this.stats,
      ...this.#endpoint.deliverer.stats,
      sessions: this.#lifecycle.size,
      queued: this.#endpoint.deliverer.queued,
    };
  }

  /** Nothing to start: the endpoint answers as soon as it is mounted or `listen()` has bound it. */
  async start(): Promise<void> {}

  /** Serves the endpoint on a server of its own; resolves with its URL. */
  listen(options: ListenOptions): Promise<string> {
    return this.#endpoint.listen(options);
  }

  async terminateSession(sessionId: string): Promise<boolean> {
    const session = this.#lifecycle.get(sessionId);
    if (!session) return false;
    await this.#lifecycle.end(session);
    return true;
  }

  /** Closes every session at once (their open streams end), then stops delivering and listening. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#lifecycle.endAll();
    await this.#endpoint.close();
  }

  /** The Streamable HTTP endpoint (POST, GET, DELETE), for `app.all('/mcp', manager.handleRequest)`. */
  readonly handleRequest: NodeRequestHandler = async (req, res) => {
    let parsed: unknown;
    if (req.method === 'POST') {
      const body = await this.#endpoint.readBody(req, res);
      if (body === undefined) return;
      if (body.kind === 'parsed') parsed = body.value;
      else {
        try {
          parsed = JSON.parse(body.bytes.toString('utf8'));
        } catch (error) {
          return this.#refuse(res, 400, parseError(describeError(error)));
        }
      }
    }
    const sessionId = headerValue(req.headers, WebhookHeader.McpSessionId);
    if (sessionId !== undefined) {
      const status = this.#lifecycle.status(sessionId);
      if (status.state === 'live') {
        this.#lifecycle.touch(sessionId);
        await status.value.http.handleRequest(req, res, parsed);
        return;
      }
      const requestId = requestIdOf(parsed);
      return this.#refuse(
        res,
        404,
        status.state === 'terminated'
          ? sessionTerminatedError(sessionId, requestId)
          : sessionNotFoundError(sessionId, requestId),
      );
    }
    if (req.method === 'POST' && isInitializeBody(parsed)) return this.#open(req, res, parsed);
    return this.#refuse(
      res,
      400,
      jsonRpcError(-32000, 'Bad Request: No valid session ID provided', requestIdOf(parsed)),
    );
  };

  async #open(req: IncomingMessage, res: ServerResponse, initialize: JSONRPCMessage & { id: RequestId }) {
    const requestId = initialize.id;
    if (this.#closed) return this.#refuse(res, 503, internalError('server is shutting down', requestId));
    const full = this.#lifecycle.noRoomError(requestId);
    if (full) return this.#refuse(res, 503, full);
    const webhookUrl = readMeta(initialize, MetaKey.WebhookUrl);
    if (webhookUrl !== undefined) {
      try {
        await this.#endpoint.deliverer.check(webhookUrl);
      } catch (error) {
        this.#logger.warn({ detail: describeError(error) }, 'initialize with an unusable webhookUrl refused');
        return this.#refuse(res, 400, validationError(describeError(error), requestId));
      }
    }
    const proposed = headerValue(req.headers, WebhookHeader.SessionId);
    const sessionId =
      this.#options.adoptProposedSessionIds &&
      isValidSessionId(proposed) &&
      this.#lifecycle.status(proposed).state === 'unknown'
        ? proposed
        : randomUUID();
    const http = new StreamableHTTPServerTransport({
      ...this.#options.transportOptions,
      sessionIdGenerator: () => sessionId,
    });
    const clientId = headerValue(req.headers, WebhookHeader.ClientId);
    const session = new HybridSession(this.#context, sessionId, http, webhookUrl, clientId);
    this.#lifecycle.add(session);
    try {
      await this.#lifecycle.connectServer(session, this.#options.createServer);
    } catch (error) {
      return this.#refuse(res, 500, this.#lifecycle.failedToStart(session, error, requestId));
    }
    await http.handleRequest(req, res, initialize);
    if (http.sessionId === undefined) {
      // The SDK refused this initialize (and said why in its reply): nothing was opened.
      await this.#lifecycle.end(session);
      return;
    }
    this.#lifecycle.opened(session, { clientId, webhook: webhookUrl !== undefined });
  }

  #refuse(res: ServerResponse, status: number, body: unknown): void {
    this.#endpoint.refuse(res, status, body);
  }
}

/** Creates a `HybridSessionManager`: `createHybridServer({ createServer, webhookTools }).listen({ port })`. */
export function createHybridServer(options: HybridSessionManagerOptions): HybridSessionManager {
  return new HybridSessionManager(options);
}

function isInitializeBody(value: unknown): value is JSONRPCMessage & { id: RequestId } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return record.method === 'initialize' && (typeof record.id === 'string' || typeof record.id === 'number');
}

function requestIdOf(value: unknown): RequestId | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const id = (value as Record<string, unknown>).id;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}
