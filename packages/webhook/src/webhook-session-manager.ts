import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Attribute,
  decodeMessage,
  describeError,
  encodeMessage,
  invalidSessionIdFormatError,
  isInitializeRequest,
  isNotification,
  isRequest,
  isSessionListeningNotification,
  isValidSessionId,
  type JSONRPCMessage,
  type JSONRPCRequest,
  JsonRpcErrorCode,
  jsonRpcError,
  type Logger,
  MetaKey,
  type RejectReason,
  readMeta,
  type ServerFactory,
  SessionDispatcher,
  type SessionInfo,
  type SessionManager,
  sessionLogId,
  sessionNotFoundError,
} from '@asyncmcp/core';
import { type HttpSessionManagerOptions, ManagerEndpoint } from './manager-endpoint.js';
import { WEBHOOK_DEFAULTS } from './webhook-defaults.js';
import { attributesFromHeaders, serverMessageHeaders, WebhookHeader } from './webhook-headers.js';
import { headerValue, type ListenOptions, type NodeRequestHandler, sendJson } from './webhook-http.js';
import { WebhookVerifier } from './webhook-signing.js';
import { WebhookUrlRefusedError } from './webhook-url-guard.js';

export interface WebhookSessionManagerOptions extends HttpSessionManagerOptions {
  /** Makes the MCP server of each new session (`() => new McpServer(...)` with its tools registered). */
  createServer: ServerFactory;
  /** The endpoint's path when `listen()` serves it. @default '/mcp/request' */
  path?: string;
  /**
   * Most requests one session may have running at once; beyond it a request is answered at once with a
   * JSON-RPC error, so one session cannot hold every running slot of the manager.
   * @default SESSION_DEFAULTS.maxInFlightPerSession (32)
   */
  maxInFlightPerSession?: number;
  /** How long `close()` waits for running requests to be answered. @default 10000 */
  shutdownTimeoutMs?: number;
  /** @default the versions the installed MCP SDK supports */
  supportedProtocolVersions?: readonly string[];
}

/** HTTP status of each refusal; the body is the JSON-RPC error of PROTOCOL.md §5. */
const STATUS_OF: Readonly<Record<RejectReason, number>> = {
  parse: 400,
  validation: 400,
  'protocol-version': 400,
  'missing-session': 400,
  'invalid-session': 400,
  'unknown-session': 404,
  'terminated-session': 404,
  'missing-address': 400,
  'refused-destination': 400,
  'session-limit': 503,
  'session-busy': 429,
  'server-failed': 500,
  closing: 503,
};

const MISSING_WEBHOOK_URL = { error: 'Missing webhookUrl in _meta field' };

/**
 * The server side of MCP over webhooks (PROTOCOL.md §3): one HTTP endpoint takes every client message
 * (POST) and session end (DELETE) with the statuses and bodies a Python asyncmcp client expects; each
 * session's MCP server (from `createServer`) answers through POSTs to the webhook its client named in
 * `initialize`, delivered by a per-session queue with retries, signing and the SSRF guard.
 *
 * Serve it with `listen()`, or mount `handleRequest` in your own server:
 * `app.all('/mcp/request', manager.handleRequest)`.
 */
export class WebhookSessionManager implements SessionManager {
  readonly #options: WebhookSessionManagerOptions;
  readonly #logger: Logger;
  readonly #dispatcher: SessionDispatcher<string>;
  readonly #verifier: WebhookVerifier | undefined;
  readonly #live = new Set<string>();
  readonly #endpoint: ManagerEndpoint;
  #badSignatures = 0;
  #closing: Promise<void> | undefined;

  constructor(options: WebhookSessionManagerOptions) {
    this.#options = options;
    this.#endpoint = ManagerEndpoint.of('WebhookSessionManager', options, {
      path: WEBHOOK_DEFAULTS.webhookEndpointPath,
      handler: (req, res) => this.handleRequest(req, res),
    });
    this.#logger = this.#endpoint.logger;
    this.#verifier =
      options.signingSecret === undefined
        ? undefined
        : new WebhookVerifier({ secret: options.signingSecret, now: options.now });
    this.#dispatcher = new SessionDispatcher<string>({
      createServer: options.createServer,
      // Read from `initialize`, from every request (each is answered at the webhook it names) and from
      // `notifications/asyncmcp/listening`; `handleRequest` has run each through the SSRF guard already.
      addressOf: (message) => readMeta(message, MetaKey.WebhookUrl),
      addressDescription: `_meta.${MetaKey.WebhookUrl}`,
      send: (message, { sessionId, address, relatedRequestId }) =>
        this.#endpoint.deliverer.deliver({
          // One queue per session and webhook: a session served by a fleet of gateways is not held up
          // by one instance that is gone while its answers for the others wait behind it.
          key: `${sessionId} ${address}`,
          url: address,
          body: encodeMessage(message),
          headers: serverMessageHeaders(message, sessionId, relatedRequestId),
          fields: { sessionId: sessionLogId(sessionId), id: 'id' in message ? message.id : undefined },
        }),
      sessionIdFormat: 'uuid',
      maxSessions: options.maxSessions,
      sessionIdleTimeoutMs: options.sessionIdleTimeoutMs,
      maxInFlightPerSession: options.maxInFlightPerSession,
      supportedProtocolVersions: options.supportedProtocolVersions,
      logger: this.#logger,
      onsessioninitialized: (sessionId) => {
        this.#live.add(sessionId);
        options.onsessioninitialized?.(sessionId);
      },
      onsessionclosed: (sessionId) => {
        this.#live.delete(sessionId);
        options.onsessionclosed?.(sessionId);
      },
    });
  }

  /** Requests this endpoint refused (any reason), and of those, the ones with a bad signature. */
  get stats(): { requestsRefused: number; badSignatures: number } {
    return { requestsRefused: this.#endpoint.requestsRefused, badSignatures: this.#badSignatures };
  }

  get sessions(): ReadonlyMap<string, SessionInfo> {
    return this.#dispatcher.sessions;
  }

  /** The endpoint's URL once `listen()` has bound it. */
  get url(): string | undefined {
    return this.#endpoint.url;
  }

  /** Counters for metrics: sessions and requests, webhook deliveries, and this endpoint's refusals. */
  get metrics(): Record<string, number> {
    return {
      ...this.#dispatcher.stats,
      ...this.#endpoint.deliverer.stats,
      ...this.stats,
      queued: this.#endpoint.deliverer.queued,
      inFlight: this.#dispatcher.inFlight,
    };
  }

  /** Nothing to start: the endpoint answers as soon as it is mounted or `listen()` has bound it. */
  async start(): Promise<void> {}

  /** Serves the endpoint on a server of its own; resolves with its URL. */
  listen(options: ListenOptions): Promise<string> {
    return this.#endpoint.listen(options);
  }

  terminateSession(sessionId: string): Promise<boolean> {
    return this.#dispatcher.terminate(sessionId);
  }

  /** Stops taking messages, lets running requests be answered (up to `shutdownTimeoutMs`), closes all. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#dispatcher.close({ timeoutMs: this.#options.shutdownTimeoutMs ?? 10_000 });
      await this.#endpoint.close();
    })();
    return this.#closing;
  }

  /** The endpoint: POST for every client message, DELETE to end a session. */
  readonly handleRequest: NodeRequestHandler = async (req, res) => {
    if (req.method === 'DELETE') return this.#delete(req, res);
    if (req.method !== 'POST') {
      return this.#refuse(res, 405, jsonRpcError(JsonRpcErrorCode.InvalidRequest, 'Method Not Allowed'), {
        Allow: 'POST, DELETE',
      });
    }
    const body = await this.#readVerified(req, res);
    if (body === undefined) return;
    const attributes = attributesFromHeaders(req.headers);
    const decoded = decodeMessage(body);
    if (decoded.ok) {
      const message = decoded.message;
      const requestId = isRequest(message) ? message.id : undefined;
      if (attributes[Attribute.ClientId] === undefined) {
        return this.#refuse(
          res,
          400,
          jsonRpcError(JsonRpcErrorCode.InvalidRequest, 'Missing X-Client-ID header', requestId),
        );
      }
      const claimed = attributes[Attribute.SessionId] ?? '';
      if (isInitializeRequest(message) && !this.#live.has(claimed)) {
        const webhookUrl = readMeta(message, MetaKey.WebhookUrl);
        if (webhookUrl === undefined) return this.#refuse(res, 400, MISSING_WEBHOOK_URL);
        // Refused here, before a session and a server exist for a client that could never be answered.
        const problem = await this.#checkWebhookUrl(webhookUrl);
        if (problem !== undefined) return this.#refuse(res, 400, { error: problem });
      } else {
        // A later message naming a webhook moves where (some of) the session's messages go: the same
        // guard, before the request runs, so a refused one is answered nowhere.
        const webhookUrl = namedWebhookUrl(message);
        if (webhookUrl !== undefined && webhookUrl !== this.#dispatcher.addressOf(claimed)) {
          const problem = await this.#checkWebhookUrl(webhookUrl);
          if (problem !== undefined) {
            return this.#refuse(res, 400, jsonRpcError(JsonRpcErrorCode.InvalidRequest, problem, requestId));
          }
        }
      }
    }
    // Malformed bodies go through the dispatcher too: it sends their error to the session, if known.
    const result = await this.#dispatcher.dispatch({ body, attributes });
    if (result.status === 'rejected') {
      if (result.reason === 'missing-address') return this.#refuse(res, 400, MISSING_WEBHOOK_URL);
      return this.#refuse(res, STATUS_OF[result.reason], result.error);
    }
    const message = decoded.ok ? decoded.message : undefined;
    if (message && isInitializeRequest(message)) {
      sendJson(
        res,
        200,
        { status: 'session_created', session_id: result.sessionId },
        { [WebhookHeader.SessionId]: result.sessionId },
      );
    } else if (message && isNotification(message) && message.method === 'notifications/initialized') {
      sendJson(res, 200, { status: 'initialized' });
    } else {
      sendJson(res, 200, { status: 'received' });
    }
  };

  async #delete(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ((await this.#readVerified(req, res)) === undefined) return;
    const sessionId = headerValue(req.headers, WebhookHeader.SessionId);
    if (sessionId === undefined || sessionId === '') {
      return this.#refuse(
        res,
        400,
        jsonRpcError(JsonRpcErrorCode.InvalidRequest, 'Missing X-Session-ID header'),
      );
    }
    if (!isValidSessionId(sessionId)) return this.#refuse(res, 400, invalidSessionIdFormatError(sessionId));
    if (!(await this.#dispatcher.terminate(sessionId))) {
      return this.#refuse(res, 404, sessionNotFoundError(sessionId));
    }
    sendJson(res, 200, { status: 'terminated' });
  }

  /** Reads the body and checks its signature when signing is on; answers the refusal itself. */
  async #readVerified(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
    const body = await this.#endpoint.readBody(req, res);
    if (body === undefined) return undefined;
    if (body.kind === 'parsed' && this.#verifier) {
      this.#refuse(res, 400, {
        error: 'Signed requests need the raw body: mount the handler before any body parser',
      });
      return undefined;
    }
    const bytes = body.kind === 'raw' ? body.bytes : Buffer.from(JSON.stringify(body.value), 'utf8');
    if (this.#verifier) {
      const verdict = this.#verifier.verify(req.headers, bytes);
      if (!verdict.ok) {
        this.#badSignatures++;
        this.#logger.warn(
          { reason: verdict.reason, method: req.method },
          'request with a bad signature refused',
        );
        this.#refuse(res, verdict.status, { error: verdict.reason });
        return undefined;
      }
    }
    return bytes;
  }

  async #checkWebhookUrl(url: string): Promise<string | undefined> {
    try {
      await this.#endpoint.deliverer.check(url);
      return undefined;
    } catch (error) {
      const detail = error instanceof WebhookUrlRefusedError ? error.message : describeError(error);
      this.#logger.warn({ detail }, 'message naming an unusable webhookUrl refused');
      return detail;
    }
  }

  #refuse(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
    this.#endpoint.refuse(res, status, body, headers);
  }
}

/** The webhook a request or a `notifications/asyncmcp/listening` names: what the dispatcher would use. */
function namedWebhookUrl(message: JSONRPCMessage): string | undefined {
  if (isRequest(message)) return readMeta(message, MetaKey.WebhookUrl);
  // Read as the dispatcher reads it: `_meta` of the params, as on a request.
  if (isSessionListeningNotification(message)) {
    return readMeta({ ...message, id: 0 } as JSONRPCRequest, MetaKey.WebhookUrl);
  }
  return undefined;
}
