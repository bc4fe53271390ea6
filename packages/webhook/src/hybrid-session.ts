import {
  type ConnectableServer,
  cancelledRequestId,
  isAnswer,
  isRequest,
  type JSONRPCMessage,
  type LifecycleSession,
  protocolVersionOf,
  type RequestId,
  requestIdKey,
  type Transport,
  type TransportSendOptions,
} from '@asyncmcp/core';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { HybridWebhookAnswers } from './hybrid-webhook-answers.js';

/** What a session needs of its manager. */
export interface HybridContext {
  readonly answers: HybridWebhookAnswers;
  isWebhookTool(name: unknown): boolean;
  touch(sessionId: string): void;
  end(session: HybridSession): Promise<void>;
}

/**
 * The `Transport` a session's MCP server is connected to: the SDK transport, with webhook tools' answers
 * taken off its path.
 */
export class HybridSession implements Transport, LifecycleSession {
  readonly createdAt = Date.now();
  server: ConnectableServer | undefined;
  protocolVersion: string | undefined;
  closed = false;
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
      const key = requestIdKey(message.id);
      this.#running.delete(key);
      if (this.#byWebhook.delete(key) && this.webhookUrl !== undefined) {
        const answer = message as JSONRPCMessage & { id: RequestId };
        const { sessionId, webhookUrl, http } = this;
        return this.context.answers.send({ sessionId, webhookUrl, answer, http });
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
      const key = requestIdKey(message.id);
      this.#running.add(key);
      const tool = (message.params as { name?: unknown } | undefined)?.name;
      if (
        message.method === 'tools/call' &&
        this.webhookUrl !== undefined &&
        this.context.isWebhookTool(tool)
      ) {
        this.#byWebhook.add(key);
      }
      return;
    }
    // A cancelled request gets no answer: forget it, or the session would look busy for ever.
    const cancelled = cancelledRequestId(message);
    if (cancelled !== undefined) {
      this.#running.delete(requestIdKey(cancelled));
      this.#byWebhook.delete(requestIdKey(cancelled));
    }
  }
}
