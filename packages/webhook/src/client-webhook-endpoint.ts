import type { IncomingHttpHeaders } from 'node:http';
import {
  type BackendMessageExtra,
  isAnswer,
  isInitializeRequest,
  isRequest,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type Logger,
  MetaKey,
  type RequestId,
  sessionLogId,
  type Transport,
  toError,
  withMeta,
} from '@asyncmcp/core';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { AnswerLedger } from './webhook-answer-ledger.js';
import { WebhookHeader } from './webhook-headers.js';
import {
  headerValue,
  type ListenOptions,
  type NodeRequestHandler,
  type RunningHttpServer,
  startHttpServerAt,
} from './webhook-http.js';
import { type ReceiveRefusal, WebhookReceiver, type WebhookReceiverStats } from './webhook-receiver.js';
import type { WebhookSecret } from './webhook-signing.js';

export interface WebhookListenOptions extends ListenOptions {
  /** The path the receiver answers on. @default the path of `webhookUrl`, else '/webhook' */
  path?: string;
}

/** The options both webhook client transports take, with the same meaning in each. */
export interface ClientWebhookCommonOptions {
  /**
   * Sends the requests to the server with this `fetch` (a proxy, a test double). Without it,
   * `WebhookClientTransport` uses Node's own HTTP client on its keep-alive agent (a fraction of `fetch`'s
   * CPU per request), and `HybridClientTransport` the SDK's Streamable HTTP client with the global `fetch`.
   * @default see above
   */
  fetch?: FetchLike;
  /** Largest delivery the receiver reads. @default 4 MiB */
  maxBodyBytes?: number;
  /** Whether `close()` ends the session on the server with a DELETE. @default true */
  terminateOnClose?: boolean;
  logger?: Logger;
  /** Clock in milliseconds for signatures; replace it in tests. @default Date.now */
  now?: () => number;
}

export interface ClientWebhookEndpointOptions {
  webhookUrl: string | undefined;
  listen: WebhookListenOptions | undefined;
  signingSecret: WebhookSecret | undefined;
  maxBodyBytes: number | undefined;
  now: (() => number) | undefined;
  logger: Logger;
  /** Whose `onmessage` gets what arrives: the SDK sets it only once the transport exists. */
  transport: Pick<Transport, 'onmessage' | 'onerror'>;
  /** Whether the transport is closed: every delivery is then refused (410). */
  closed(): boolean;
  /**
   * The session a delivery is for when that is not this client's session (it is refused, 404), with the
   * client's own, for the log; undefined for a delivery this client takes.
   */
  otherSession(
    message: JSONRPCMessage,
    headers: IncomingHttpHeaders,
  ): { named: string | undefined; own: string | undefined } | undefined;
  /**
   * A message as the SDK must see it, ids as the client gave them (PROTOCOL.md §8, "Ids on the wire");
   * undefined for an answer to no request this client sent, which is dropped and counted. `headers` are
   * the delivery's, absent for an answer made locally (an HTTP refusal of a request).
   */
  restore(message: JSONRPCMessage, headers: IncomingHttpHeaders | undefined): JSONRPCMessage | undefined;
  /** The client's id of a request still waiting, by the id it went out under. */
  clientIdOf(wireId: RequestId): RequestId | undefined;
  /**
   * Name the webhook on every request, not only on `initialize`, so each request is answered at the
   * webhook of whoever sent it (a gateway fleet: whichever instance it reached). @default false
   */
  nameOnEveryRequest?: boolean;
}

export interface ClientWebhookEndpointStats extends WebhookReceiverStats {
  /** Answers dropped because they matched no request this client sent: forged, late or duplicate. */
  unmatched: number;
}

/**
 * The webhook end of both client transports: it receives the server's POSTs, on a handler to mount or
 * on a server of its own, names its URL in `initialize`, and hands each answer to the SDK once, however
 * many ways the answer came.
 */
export class ClientWebhookEndpoint {
  /** Requests sent and answers handed on; the transport says what it sent. */
  readonly ledger = new AnswerLedger();
  readonly #options: ClientWebhookEndpointOptions;
  readonly #receiver: WebhookReceiver;
  #url: string | undefined;
  #listener: RunningHttpServer | undefined;
  #unmatched = 0;

  constructor(options: ClientWebhookEndpointOptions) {
    this.#options = options;
    this.#url = options.webhookUrl;
    this.#receiver = new WebhookReceiver({
      signingSecret: options.signingSecret,
      maxBodyBytes: options.maxBodyBytes,
      now: options.now,
      logger: options.logger,
      receive: (message, headers) => {
        const refusal = this.#refusal(message, headers);
        if (refusal) return refusal;
        const related = this.ledger.pendingByText(headerValue(headers, WebhookHeader.RelatedRequestId));
        const relatedRequestId = related === undefined ? undefined : options.clientIdOf(related);
        this.deliver(message, relatedRequestId === undefined ? undefined : { relatedRequestId }, headers);
        return undefined;
      },
    });
  }

  readonly handle: NodeRequestHandler = (req, res) => this.#receiver.handle(req, res);

  /** Why a delivery is not this client's to take (closed, or for another session). */
  #refusal(message: JSONRPCMessage, headers: IncomingHttpHeaders): ReceiveRefusal | undefined {
    if (this.#options.closed()) return { status: 410, error: 'The transport is closed' };
    const other = this.#options.otherSession(message, headers);
    if (other === undefined) return undefined;
    this.#options.logger.warn(
      { sessionId: sessionLogId(other.own), other: sessionLogId(other.named) },
      'delivery for another session refused',
    );
    return { status: 404, error: `Session not found: ${other.named}` };
  }

  /** The URL named to the server in `initialize`; with `listen` on port 0, known once listening. */
  get url(): string | undefined {
    return this.#url;
  }

  get stats(): Readonly<ClientWebhookEndpointStats> {
    return { ...this.#receiver.stats, unmatched: this.#unmatched };
  }

  /** Starts the server of its own, when `listen` asks for one. */
  async listen(): Promise<void> {
    const listen = this.#options.listen;
    if (!listen) return;
    const path = listen.path ?? (this.#url ? new URL(this.#url).pathname : '/webhook');
    this.#listener = await startHttpServerAt(path, this.handle, listen, this.#options.logger);
    this.#url ??= `${this.#listener.origin}${path}`;
  }

  /**
   * The message as it goes to the server: `initialize` names where to send this client's messages, and
   * with `nameOnEveryRequest` every request names where to send its answer.
   */
  named(message: JSONRPCMessage): JSONRPCMessage {
    if (this.#url === undefined) return message;
    const names = this.#options.nameOnEveryRequest ? isRequest(message) : isInitializeRequest(message);
    return names ? withMeta(message as JSONRPCRequest, { [MetaKey.WebhookUrl]: this.#url }) : message;
  }

  /**
   * Hands a message to the SDK, ids as it gave them; an answer it has already had is dropped, and so is
   * one for no request it sent.
   */
  deliver(message: JSONRPCMessage, extra?: BackendMessageExtra, headers?: IncomingHttpHeaders): void {
    if (isAnswer(message) && message.id !== undefined && !this.ledger.take(message.id)) {
      this.#options.logger.debug({ id: message.id }, 'duplicate answer dropped');
      return;
    }
    const restored = this.#options.restore(message, headers);
    if (restored === undefined) {
      this.#unmatched++;
      this.#options.logger.warn(
        { id: 'id' in message ? message.id : undefined },
        'answer for no request of this session dropped',
      );
      return;
    }
    try {
      this.#options.transport.onmessage?.(restored, extra);
    } catch (error) {
      this.#options.transport.onerror?.(toError(error));
    }
  }

  async close(): Promise<void> {
    await this.#listener?.close();
  }
}
