import {
  type ConnectableServer,
  describeError,
  encodeMessage,
  internalError,
  isAnswer,
  isNotification,
  isRequest,
  type JSONRPCMessage,
  type Logger,
  protocolVersionOf,
  type RequestId,
  sessionLogId,
  type Transport,
  type TransportSendOptions,
} from '@asyncmcp/core';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { HybridStats } from './hybrid-session-manager.js';
import type { WebhookDeliverer } from './webhook-deliverer.js';
import { WebhookHeader } from './webhook-headers.js';

/** What a session needs of its manager. */
export interface HybridContext {
  readonly deliverer: WebhookDeliverer;
  readonly logger: Logger;
  readonly stats: HybridStats;
  readonly fallback: 'stream' | 'error';
  isWebhookTool(name: unknown): boolean;
  touch(sessionId: string): void;
  end(session: HybridSession): Promise<void>;
}

/**
 * The `Transport` a session's MCP server is connected to: the SDK transport, with webhook tools' answers
 * taken off its path.
 */
export class HybridSession implements Transport {
  readonly createdAt = Date.now();
  server: ConnectableServer | undefined;
  protocolVersion: string | undefined;
  initialized = false;
  ended = false;
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  /** Requests the server has not answered yet, and which of them answer by webhook. */
  readonly #running = new Set<string>();
  readonly #byWebhook = new Set<string>();
  #closeFired = false;

  constructor(
    private readonly context: HybridContext,
    readonly sessionId: string,
    readonly http: StreamableHTTPServerTransport,
    readonly webhookUrl: string | undefined,
    readonly clientId: string | undefined,
  ) {
    http.onmessage = (message, extra) => {
      this.#inspect(message);
      this.onmessage?.(message, extra);
    };
    http.onerror = (error) => this.onerror?.(error);
    // A DELETE from the client, or the SDK giving up: end the whole session.
    http.onclose = () => void context.end(this);
  }

  get busy(): boolean {
    return this.#running.size > 0;
  }

  async start(): Promise<void> {
    await this.http.start();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    this.context.touch(this.sessionId);
    const version = protocolVersionOf(message);
    if (version !== undefined) this.protocolVersion = version;
    if (isAnswer(message) && message.id !== undefined) {
      const key = idKey(message.id);
      this.#running.delete(key);
      if (this.#byWebhook.delete(key) && this.webhookUrl !== undefined) {
        return this.#sendByWebhook(message as JSONRPCMessage & { id: RequestId }, this.webhookUrl);
      }
    }
    await this.http.send(message, options);
  }

  async close(): Promise<void> {
    await this.context.end(this);
    this.fireClose();
  }

  fireClose(): void {
    if (this.#closeFired) return;
    this.#closeFired = true;
    this.onclose?.();
  }

  #inspect(message: JSONRPCMessage): void {
    if (isRequest(message)) {
      const key = idKey(message.id);
      this.#running.add(key);
      const tool = (message.params as { name?: unknown } | undefined)?.name;
      if (
        message.method === 'tools/call' &&
        this.webhookUrl !== undefined &&
        this.context.isWebhookTool(tool)
      ) {
        this.#byWebhook.add(key);
      }
    } else if (isNotification(message) && message.method === 'notifications/cancelled') {
      // A cancelled request gets no answer: forget it, or the session would look busy for ever.
      const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId;
      if (typeof requestId === 'string' || typeof requestId === 'number') {
        this.#running.delete(idKey(requestId));
        this.#byWebhook.delete(idKey(requestId));
      }
    }
  }

  async #sendByWebhook(answer: JSONRPCMessage & { id: RequestId }, webhookUrl: string): Promise<void> {
    const { deliverer, logger, stats } = this.context;
    try {
      await deliverer.deliver({
        key: this.sessionId,
        url: webhookUrl,
        body: encodeMessage(answer),
        headers: {
          'Content-Type': 'application/json',
          [WebhookHeader.McpSessionId]: this.sessionId,
          [WebhookHeader.RequestId]: String(answer.id),
          [WebhookHeader.Method]: 'tools/call',
        },
        fields: { sessionId: sessionLogId(this.sessionId), id: answer.id },
      });
    } catch (error) {
      const fallback =
        this.context.fallback === 'stream'
          ? answer
          : internalError(
              `the answer could not be delivered to the webhook: ${describeError(error)}`,
              answer.id,
            );
      if (this.context.fallback === 'stream') stats.webhookFallbacks++;
      else stats.webhookErrors++;
      logger.warn(
        {
          sessionId: sessionLogId(this.sessionId),
          id: answer.id,
          fallback: this.context.fallback,
          err: describeError(error),
        },
        'webhook did not take an answer; ending the request on its stream',
      );
      await this.http.send(fallback);
      return;
    }
    stats.webhookAnswers++;
    // The answer is with the client: end the request's SSE stream, which would otherwise wait for it.
    // Sending the answer to the SDK transport once its stream is closed makes it release what it keeps
    // for the request, without writing the answer anywhere (no event store is configured here, by design)
    // — and it reports exactly that by rejecting, which is expected.
    this.http.closeSSEStream(answer.id);
    await this.http.send(answer).catch(() => undefined);
    logger.debug({ sessionId: sessionLogId(this.sessionId), id: answer.id }, 'answer delivered by webhook');
  }
}

function idKey(id: RequestId): string {
  return `${typeof id}:${id}`;
}
