import {
  describeError,
  encodeMessage,
  internalError,
  type JSONRPCMessage,
  type Logger,
  type RequestId,
  sessionLogId,
} from '@asyncmcp/core';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { WebhookDeliverer } from './webhook-deliverer.js';
import { WebhookHeader } from './webhook-headers.js';

/** What became of the answers that were to go by webhook. */
export interface WebhookAnswerStats {
  /** Answers delivered by webhook. */
  webhookAnswers: number;
  /** Answers the webhook did not take, sent on the stream instead (`webhookFallback: 'stream'`). */
  webhookFallbacks: number;
  /** Answers the webhook did not take, turned into a JSON-RPC error (`webhookFallback: 'error'`). */
  webhookErrors: number;
}

export interface HybridWebhookAnswersOptions {
  deliverer: WebhookDeliverer;
  logger: Logger;
  /** Where an answer the webhook would not take goes: the stream, or a JSON-RPC error on it. */
  fallback: 'stream' | 'error';
}

/** One answer to POST to a session's webhook, and the SDK transport whose request stream it ends. */
export interface WebhookAnswer {
  sessionId: string;
  webhookUrl: string;
  answer: JSONRPCMessage & { id: RequestId };
  http: StreamableHTTPServerTransport;
}

/**
 * Takes a webhook tool's answer off its SSE stream and POSTs it to the session's webhook; an answer the
 * webhook would not take ends the request on its stream after all. Counts each outcome.
 */
export class HybridWebhookAnswers {
  readonly #options: HybridWebhookAnswersOptions;
  readonly #stats: WebhookAnswerStats = { webhookAnswers: 0, webhookFallbacks: 0, webhookErrors: 0 };

  constructor(options: HybridWebhookAnswersOptions) {
    this.#options = options;
  }

  get stats(): WebhookAnswerStats {
    return { ...this.#stats };
  }

  async send({ sessionId, webhookUrl, answer, http }: WebhookAnswer): Promise<void> {
    const { deliverer, logger, fallback } = this.#options;
    try {
      await deliverer.deliver({
        key: sessionId,
        url: webhookUrl,
        body: encodeMessage(answer),
        headers: {
          'Content-Type': 'application/json',
          [WebhookHeader.McpSessionId]: sessionId,
          [WebhookHeader.RequestId]: String(answer.id),
          [WebhookHeader.Method]: 'tools/call',
        },
        fields: { sessionId: sessionLogId(sessionId), id: answer.id },
      });
    } catch (error) {
      if (fallback === 'stream') this.#stats.webhookFallbacks++;
      else this.#stats.webhookErrors++;
      logger.warn(
        { sessionId: sessionLogId(sessionId), id: answer.id, fallback, err: describeError(error) },
        'webhook did not take an answer; ending the request on its stream',
      );
      const detail = `the answer could not be delivered to the webhook: ${describeError(error)}`;
      await http.send(fallback === 'stream' ? answer : internalError(detail, answer.id));
      return;
    }
    this.#stats.webhookAnswers++;
    // The answer is with the client: end the request's SSE stream, which would otherwise wait for it.
    // Sending the answer to the SDK transport once its stream is closed makes it release what it keeps
    // for the request, without writing the answer anywhere (no event store is configured here, by design)
    // — and it reports exactly that by rejecting, which is expected.
    http.closeSSEStream(answer.id);
    await http.send(answer).catch(() => undefined);
    logger.debug({ sessionId: sessionLogId(sessionId), id: answer.id }, 'answer delivered by webhook');
  }
}

/** Which tools answer by webhook: names, or a predicate on the name. */
export type WebhookToolSelector = readonly string[] | ReadonlySet<string> | ((toolName: string) => boolean);

/** The selector as one predicate on a `tools/call`'s `name`, whatever its type. */
export function webhookToolPredicate(select: WebhookToolSelector): (name: unknown) => boolean {
  if (typeof select === 'function') return (name) => typeof name === 'string' && select(name);
  const names = new Set(select);
  return (name) => typeof name === 'string' && names.has(name);
}
