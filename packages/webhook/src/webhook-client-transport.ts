import type { IncomingHttpHeaders } from 'node:http';
import {
  Attribute,
  type BackendSessionTransport,
  ClientSessionState,
  ConfigurationError,
  DeliveryError,
  describeError,
  encodeMessage,
  isInitializeRequest,
  isRequest,
  isValidSessionId,
  type JSONRPCMessage,
  JsonRpcErrorCode,
  jsonRpcError,
  type Logger,
  MetaKey,
  sessionListeningNotification,
  sessionLogId,
  silentLogger,
  type Transport,
  TransportStateError,
} from '@asyncmcp/core';
import {
  type ClientWebhookCommonOptions,
  ClientWebhookEndpoint,
  type ClientWebhookEndpointStats,
  type WebhookListenOptions,
} from './client-webhook-endpoint.js';
import { isOk, type ServerAnswer, type ServerExchange, serverExchange } from './server-exchange.js';
import { headersFromAttributes, WebhookHeader } from './webhook-headers.js';
import {
  DEFAULT_MAX_RESPONSE_BODY_BYTES,
  headerValue,
  type NodeRequestHandler,
  redactUrl,
} from './webhook-http.js';
import { type WebhookSecret, WebhookSigner } from './webhook-signing.js';

export type { WebhookListenOptions };

export interface WebhookClientTransportOptions extends ClientWebhookCommonOptions {
  /** The server's endpoint, e.g. `https://mcp.example.com/mcp/request`. */
  serverUrl: string | URL;
  /**
   * Where the server POSTs this client's messages; named in `initialize` as `_meta.webhookUrl`. May be
   * left out with `listen`: it is then the local address the receiver is bound to.
   */
  webhookUrl?: string | URL;
  /**
   * Start a receiver of our own on this port (`0` picks a free one). Without it, mount `handleWebhook`
   * where `webhookUrl` points. @default no server of our own
   */
  listen?: WebhookListenOptions;
  /** Sent as `X-Client-ID`. @default a random UUID */
  clientId?: string;
  /** Sign what we send and verify what we receive with Standard Webhooks headers. @default unsigned */
  signingSecret?: WebhookSecret;
  /** A session id to propose in `X-Session-ID` on `initialize`; servers that adopt proposals use it. */
  proposedSessionId?: string;
  /**
   * A session the server already holds (opened through another webhook, by another instance of a
   * gateway fleet): the transport starts under this id as if `initialize` were done, and the SDK's
   * `Client` sends no `initialize` on a transport that has a session id. Give the negotiated version
   * with `setProtocolVersion`.
   */
  sessionId?: string;
  /** Extra headers on every request to the server, e.g. `Authorization`. */
  headers?: Readonly<Record<string, string>>;
  /** Bound on each POST/DELETE to the server. @default 30000 */
  requestTimeoutMs?: number;
}

/** @internal How a backend learns that one of its session transports closed. */
export interface ClientTransportHooks {
  onclosed?: () => void;
}

/**
 * An MCP client transport over webhooks (PROTOCOL.md §3): `new Client(...).connect(transport)`. Every
 * message is POSTed to the server; the server POSTs every message for this client to its webhook, which
 * this transport receives — on `handleWebhook`, a Node handler to mount in your own server (Express or
 * node:http), or on a server of its own with `listen`.
 *
 * `_meta.webhookUrl` is added to `initialize` and to every later request (ours: a server answers each
 * request at the webhook it names, PROTOCOL.md §7b; Python servers read it on `initialize` only), the
 * session id is adopted from the server's reply, and messages are sent one at a time, in order, as
 * Python asyncmcp clients send them.
 */
export class WebhookClientTransport implements BackendSessionTransport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  readonly #options: WebhookClientTransportOptions;
  readonly #hooks: ClientTransportHooks;
  readonly #serverUrl: URL;
  readonly #state: ClientSessionState;
  readonly #endpoint: ClientWebhookEndpoint;
  readonly #signer: WebhookSigner | undefined;
  readonly #exchange: ServerExchange;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  #chain: Promise<unknown> = Promise.resolve();
  #started = false;
  #closed = false;
  #terminateOnClose: boolean;

  constructor(options: WebhookClientTransportOptions, hooks: ClientTransportHooks = {}) {
    this.#serverUrl = parseUrl(options.serverUrl, 'serverUrl');
    const webhookUrl =
      options.webhookUrl === undefined ? undefined : parseUrl(options.webhookUrl, 'webhookUrl').href;
    if (webhookUrl === undefined && !options.listen) {
      throw new ConfigurationError(
        'WebhookClientTransport needs a webhookUrl (or listen, to start a receiver)',
      );
    }
    if (options.sessionId !== undefined && !isValidSessionId(options.sessionId)) {
      throw new ConfigurationError(`sessionId "${options.sessionId}" is not a valid session id`);
    }
    this.#options = options;
    this.#hooks = hooks;
    this.#terminateOnClose = options.terminateOnClose ?? true;
    this.#logger = options.logger ?? silentLogger;
    this.#exchange = serverExchange(options.fetch);
    this.#signer =
      options.signingSecret === undefined ? undefined : new WebhookSigner(options.signingSecret, options.now);
    // `_meta.webhookUrl` is added here rather than by the state: with `listen` on port 0 it is known
    // only once the receiver is bound.
    this.#state = new ClientSessionState({
      clientId: options.clientId,
      meta: {},
      proposedSessionId: options.proposedSessionId,
    });
    this.#state.sessionId = options.sessionId;
    this.#endpoint = new ClientWebhookEndpoint({
      webhookUrl,
      listen: options.listen,
      signingSecret: options.signingSecret,
      maxBodyBytes: options.maxBodyBytes,
      now: options.now,
      logger: this.#logger,
      transport: this,
      closed: () => this.#closed,
      otherSession: (message, headers) => {
        if (this.#state.accept(message, attributesOf(headers))) return undefined;
        return { named: headerValue(headers, WebhookHeader.SessionId), own: this.sessionId };
      },
      restore: (message, headers) => this.#state.restore(message, attributesOf(headers)),
      clientIdOf: (wireId) => this.#state.clientIdOf(wireId),
      nameOnEveryRequest: true,
    });
  }

  /** The Node handler that receives the server's POSTs; mount it where `webhookUrl` points. */
  readonly handleWebhook: NodeRequestHandler = (req, res) => this.#endpoint.handle(req, res);

  get sessionId(): string | undefined {
    return this.#state.sessionId;
  }

  get clientId(): string {
    return this.#state.clientId;
  }

  /** The URL named to the server in `initialize`; with `listen` on port 0, known once started. */
  get webhookUrl(): string | undefined {
    return this.#endpoint.url;
  }

  get stats(): Readonly<ClientWebhookEndpointStats> {
    return this.#endpoint.stats;
  }

  setProtocolVersion(version: string): void {
    this.#state.protocolVersion = version;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('The transport is already started');
    if (this.#closed) throw new TransportStateError('closed');
    this.#started = true;
    await this.#endpoint.listen();
  }

  /** Sends one message; messages go out one at a time, in the order `send` was called. */
  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new TransportStateError('closed'));
    if (!this.#started) return Promise.reject(new TransportStateError('not-started'));
    const sent = this.#chain.then(() => this.#post(message));
    this.#chain = sent.catch(() => undefined);
    return sent;
  }

  /** Ends the session on the server (DELETE). Resolves when the server has ended it or never knew it. */
  async terminateSession(): Promise<void> {
    const sessionId = this.#state.sessionId;
    if (sessionId === undefined) return;
    const headers = {
      ...this.#options.headers,
      [WebhookHeader.SessionId]: sessionId,
      [WebhookHeader.ClientId]: this.#state.clientId,
      ...this.#signer?.headers(''),
    };
    let answer: ServerAnswer;
    try {
      answer = await this.#exchange(this.#serverUrl, {
        method: 'DELETE',
        headers,
        timeoutMs: this.#options.requestTimeoutMs ?? 30_000,
        maxAnswerBytes: DEFAULT_MAX_RESPONSE_BODY_BYTES,
      });
    } catch (cause) {
      throw new DeliveryError({
        message: `DELETE to ${redactUrl(this.#serverUrl)} failed: ${describeError(cause)}`,
        cause,
      });
    }
    const { status, text } = answer;
    if (!isOk(status) && status !== 404) {
      throw new DeliveryError({
        message: `The server refused to end session ${sessionId}: HTTP ${status} ${readRefusal(status, text).message}`,
        isRetryable: status >= 500,
      });
    }
  }

  /**
   * From now on `close()` leaves the session to the server: other webhooks (other instances of a gateway
   * fleet) may still use it. A gateway calls it when its session ends for any reason but its client's
   * DELETE.
   */
  keepServerSession(): void {
    this.#terminateOnClose = false;
  }

  /**
   * Tells the server that the session's messages outside requests (notifications, its own requests)
   * come to this transport's webhook from now on (`notifications/asyncmcp/listening`); servers that do
   * not know it keep the webhook of `initialize`. Nothing to say before the session exists.
   */
  async listenHere(): Promise<void> {
    const webhookUrl = this.#endpoint.url;
    if (this.#closed || this.#state.sessionId === undefined || webhookUrl === undefined) return;
    await this.send(sessionListeningNotification({ [MetaKey.WebhookUrl]: webhookUrl }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#terminateOnClose && this.#state.sessionId !== undefined) {
      try {
        await this.terminateSession();
      } catch (error) {
        this.#logger.warn(
          { sessionId: sessionLogId(this.sessionId), err: describeError(error) },
          'could not end the session',
        );
      }
    }
    this.#abort.abort();
    await this.#endpoint.close();
    this.#hooks.onclosed?.();
    this.onclose?.();
  }

  async #post(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new TransportStateError('closed');
    const prepared = this.#state.prepare(this.#endpoint.named(message));
    const body = encodeMessage(prepared.message);
    const headers = {
      ...this.#options.headers,
      ...headersFromAttributes(prepared.attributes),
      ...this.#signer?.headers(body),
    };
    const request = isRequest(prepared.message) ? prepared.message : undefined;
    if (request) this.#endpoint.ledger.sent(request.id);
    let answer: ServerAnswer;
    try {
      // The reply is an acknowledgement: a server cannot make us buffer more than a bounded prefix of it.
      answer = await this.#exchange(this.#serverUrl, {
        method: 'POST',
        headers,
        body,
        timeoutMs: this.#options.requestTimeoutMs ?? 30_000,
        maxAnswerBytes: DEFAULT_MAX_RESPONSE_BODY_BYTES,
        signal: this.#abort.signal,
      });
    } catch (cause) {
      if (request) {
        this.#endpoint.ledger.abandoned(request.id);
        this.#state.discard(request.id);
      }
      throw new DeliveryError({
        message: `POST to ${redactUrl(this.#serverUrl)} failed: ${describeError(cause)}`,
        cause,
      });
    }
    const { status, text } = answer;
    if (isOk(status)) {
      if (isInitializeRequest(prepared.message)) this.#adoptSessionId(answer);
      return;
    }
    const refusal = readRefusal(status, text);
    const method = 'method' in prepared.message ? prepared.message.method : undefined;
    this.#logger.warn({ status, method, detail: refusal.message }, 'the server refused a message');
    // The reply belongs to this POST, so its error can answer this request, whatever id the server
    // put in it (Python servers put "server-error", which no caller could match).
    if (request) return this.#endpoint.deliver(jsonRpcError(refusal.code, refusal.message, request.id));
    throw new DeliveryError({
      message: `The server refused ${method ?? 'a response'}: HTTP ${status} ${refusal.message}`,
      isRetryable: status >= 500,
    });
  }

  /** The session id of an initialize reply: the `X-Session-ID` header, else `session_id` in the body. */
  #adoptSessionId(answer: ServerAnswer): void {
    if (this.#state.sessionId !== undefined) return;
    let id = answer.header(WebhookHeader.SessionId);
    if (id === undefined) {
      try {
        const body = JSON.parse(answer.text) as { session_id?: unknown };
        if (typeof body.session_id === 'string') id = body.session_id;
      } catch {
        // A reply without a readable body: the session id arrives with the initialize result instead.
      }
    }
    if (id !== undefined && isValidSessionId(id)) this.#state.sessionId = id;
  }
}

/** The delivery's session id as core's attribute, for the session checks of `ClientSessionState`. */
function attributesOf(headers: IncomingHttpHeaders | undefined): Record<string, string> {
  const sessionId = headers === undefined ? undefined : headerValue(headers, WebhookHeader.SessionId);
  return sessionId === undefined ? {} : { [Attribute.SessionId]: sessionId };
}

function parseUrl(value: string | URL, name: string): URL {
  try {
    return new URL(String(value));
  } catch {
    throw new ConfigurationError(`${name} is not a valid URL: ${String(value)}`);
  }
}

/** Reads a refusal body: a JSON-RPC error, Python's `{"error": "…"}`, or anything else. */
export function readRefusal(status: number, text: string): { code: number; message: string } {
  const code = status >= 500 ? JsonRpcErrorCode.InternalError : JsonRpcErrorCode.InvalidRequest;
  try {
    const value = JSON.parse(text) as { error?: unknown };
    const error = value?.error;
    if (typeof error === 'string') return { code, message: error };
    if (
      typeof error === 'object' &&
      error !== null &&
      typeof (error as { message?: unknown }).message === 'string'
    ) {
      const given = (error as { code?: unknown }).code;
      return {
        code: typeof given === 'number' ? given : code,
        message: (error as { message: string }).message,
      };
    }
  } catch {
    // Not JSON: describe it by its status.
  }
  return { code, message: `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}` };
}
