import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import {
  Backoff,
  type BackoffOptions,
  DeliveryError,
  delay,
  describeError,
  type Logger,
  silentLogger,
  TimeoutError,
} from '@asyncmcp/core';
import {
  DEFAULT_MAX_RESPONSE_BODY_BYTES,
  discardResponseBody,
  originForLog,
  redactUrl,
} from './webhook-http.js';
import { newWebhookId, type WebhookSecret, WebhookSigner } from './webhook-signing.js';
import {
  pinnedLookup,
  resolveWebhookTarget,
  type WebhookTarget,
  type WebhookUrlPolicy,
  WebhookUrlRefusedError,
} from './webhook-url-guard.js';

/** How a server delivers to webhooks: the SSRF policy, signing, retries and the memory bound. */
export interface WebhookDeliveryOptions extends WebhookUrlPolicy {
  /** Sign every delivery with Standard Webhooks headers. @default unsigned */
  signingSecret?: WebhookSecret;
  /**
   * Bound on one delivery attempt (connect, send, response headers), and on the time spent throwing
   * away the webhook's response body, of which at most 64 KiB is read. @default 10000
   */
  deliveryTimeoutMs?: number;
  /** Attempts per message, the first included, before it counts as failed. @default 5 */
  maxDeliveryAttempts?: number;
  /** Jittered delays between attempts. @default { baseMs: 200, maxMs: 10000 } */
  deliveryBackoff?: BackoffOptions;
  /**
   * Messages waiting per session and webhook (the one being delivered included). A message beyond it is
   * refused at once, logged and counted, so a webhook that is down cannot make the server buffer without
   * bound.
   * @default 1000
   */
  maxQueuedPerSession?: number;
  /** Clock in milliseconds for signature timestamps; replace it in tests. @default Date.now */
  now?: () => number;
}

export interface WebhookDeliveryStats {
  /** Messages a webhook accepted (2xx). */
  delivered: number;
  /** Attempts that failed and were tried again. */
  retried: number;
  /** Messages given up on: retries exhausted, refused by the receiver, by the SSRF guard, or overflow. */
  failed: number;
  /** Of `failed`: URLs the SSRF guard refused. */
  refused: number;
  /** Of `failed`: messages refused because their session's queue was full. */
  overflowed: number;
}

/** One message on its way to a webhook. */
export interface OutgoingWebhook {
  /** Messages with the same key go one after another, in order; other keys never wait behind them. */
  key: string;
  url: string;
  body: string;
  headers: Readonly<Record<string, string>>;
  /** Extra fields for log lines (session id, request id …). */
  fields?: Readonly<Record<string, unknown>>;
}

/** A webhook delivery that was given up on; `status` is the receiver's last HTTP status, if any. */
export class WebhookDeliveryError extends DeliveryError {
  readonly status: number | undefined;
  readonly attempts: number;
  constructor(input: {
    message: string;
    status?: number;
    attempts: number;
    cause?: unknown;
    isRetryable?: boolean;
  }) {
    super({ message: input.message, cause: input.cause, isRetryable: input.isRetryable ?? false });
    this.name = 'WebhookDeliveryError';
    this.status = input.status;
    this.attempts = input.attempts;
  }
}

interface Queued extends OutgoingWebhook {
  resolve(): void;
  reject(error: Error): void;
}

type AttemptOutcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; detail: Record<string, unknown>; error: Error }
  | { kind: 'fail'; error: Error };

/**
 * Delivers server→client messages to webhook URLs (PROTOCOL.md §3–§4): one FIFO queue per key (a
 * session and its webhook) so a slow or dead webhook delays only what goes to it; the SSRF guard on every attempt, and the connection
 * made to the address it validated; no redirects followed; retries with jittered backoff on network
 * errors, timeouts, 408/425/429 and 5xx; a bounded queue. `deliver` resolves once the webhook accepted
 * the message and rejects with a `WebhookDeliveryError` when it was given up on.
 */
export class WebhookDeliverer {
  readonly stats: WebhookDeliveryStats = { delivered: 0, retried: 0, failed: 0, refused: 0, overflowed: 0 };
  readonly #options: WebhookDeliveryOptions;
  readonly #logger: Logger;
  readonly #signer: WebhookSigner | undefined;
  readonly #queues = new Map<string, Queued[]>();
  readonly #closing = new AbortController();
  // Keep-alive agents of our own: a pooled socket was opened to a validated address, and `close()`
  // can end them all.
  readonly #httpAgent = new http.Agent({ keepAlive: true });
  readonly #httpsAgent = new https.Agent({ keepAlive: true });
  readonly #maxAttempts: number;
  readonly #maxQueued: number;
  readonly #timeoutMs: number;

  constructor(options: WebhookDeliveryOptions & { logger?: Logger }) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#signer =
      options.signingSecret === undefined ? undefined : new WebhookSigner(options.signingSecret, options.now);
    this.#maxAttempts = Math.max(1, options.maxDeliveryAttempts ?? 5);
    this.#maxQueued = Math.max(1, options.maxQueuedPerSession ?? 1000);
    this.#timeoutMs = options.deliveryTimeoutMs ?? 10_000;
    // Every attempt and back-off under way listens on this one signal: one per busy session, no leak.
    setMaxListeners(0, this.#closing.signal);
  }

  /** Messages waiting or being delivered, over every session. */
  get queued(): number {
    let count = 0;
    for (const queue of this.#queues.values()) count += queue.length;
    return count;
  }

  /** The SSRF check alone, e.g. on `initialize`, to refuse a bad URL before a session exists. */
  check(url: string): Promise<WebhookTarget> {
    return resolveWebhookTarget(url, this.#options);
  }

  deliver(message: OutgoingWebhook): Promise<void> {
    if (this.#closing.signal.aborted) {
      return Promise.reject(
        new WebhookDeliveryError({ message: 'The webhook deliverer is closed', attempts: 0 }),
      );
    }
    let queue = this.#queues.get(message.key);
    if (queue && queue.length >= this.#maxQueued) {
      this.stats.failed++;
      this.stats.overflowed++;
      this.#logger.error(
        { ...message.fields, url: originForLog(message.url), limit: this.#maxQueued },
        'webhook queue full; message dropped',
      );
      return Promise.reject(
        new WebhookDeliveryError({
          message: `Webhook queue full (${this.#maxQueued} messages waiting for ${originForLog(message.url)})`,
          attempts: 0,
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const entry: Queued = { ...message, resolve, reject };
      if (queue) {
        queue.push(entry);
        return;
      }
      queue = [entry];
      this.#queues.set(message.key, queue);
      void this.#drain(message.key, queue);
    });
  }

  /** Stops: waiting messages are rejected, attempts under way aborted, pooled connections closed. */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    for (const queue of this.#queues.values()) {
      // The head is being delivered: its own attempt rejects it once aborted.
      for (const entry of queue.splice(1)) {
        entry.reject(new WebhookDeliveryError({ message: 'The webhook deliverer closed', attempts: 0 }));
      }
    }
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }

  async #drain(key: string, queue: Queued[]): Promise<void> {
    while (queue.length > 0) {
      const entry = queue[0] as Queued;
      try {
        await this.#deliverOne(entry);
        entry.resolve();
      } catch (error) {
        entry.reject(error instanceof Error ? error : new Error(describeError(error)));
      }
      queue.shift();
    }
    if (this.#queues.get(key) === queue) this.#queues.delete(key);
  }

  async #deliverOne(message: OutgoingWebhook): Promise<void> {
    const backoff = new Backoff(this.#options.deliveryBackoff ?? { baseMs: 200, maxMs: 10_000 });
    // One id for every attempt: a receiver that already took an earlier attempt recognises the retry.
    const webhookId = newWebhookId();
    const fields = { ...message.fields, url: originForLog(message.url) };
    for (let attempt = 1; ; attempt++) {
      if (this.#closing.signal.aborted) {
        throw new WebhookDeliveryError({ message: 'The webhook deliverer closed', attempts: attempt - 1 });
      }
      const outcome = await this.#attempt(message, webhookId, attempt);
      if (outcome.kind === 'delivered') {
        this.stats.delivered++;
        this.#logger.debug({ ...fields, attempts: attempt }, 'webhook delivered');
        return;
      }
      if (outcome.kind === 'retry' && attempt < this.#maxAttempts && !this.#closing.signal.aborted) {
        const delayMs = backoff.next();
        this.stats.retried++;
        this.#logger.warn(
          { ...fields, ...outcome.detail, attempt, maxAttempts: this.#maxAttempts, delayMs },
          'webhook delivery failed; retrying',
        );
        await delay(delayMs, this.#closing.signal);
        continue;
      }
      this.stats.failed++;
      if (outcome.error instanceof WebhookUrlRefusedError) {
        this.stats.refused++;
        this.#logger.error({ ...fields, reason: outcome.error.reason }, 'webhook URL refused');
        throw outcome.error;
      }
      this.#logger.error(
        { ...fields, attempts: attempt, err: outcome.error.message },
        'webhook delivery given up',
      );
      if (outcome.error instanceof WebhookDeliveryError) throw outcome.error;
      throw new WebhookDeliveryError({
        message: `Webhook delivery to ${fields.url} failed after ${attempt} attempt(s): ${outcome.error.message}`,
        attempts: attempt,
        cause: outcome.error,
        isRetryable: outcome.kind === 'retry',
      });
    }
  }

  async #attempt(message: OutgoingWebhook, webhookId: string, attempt: number): Promise<AttemptOutcome> {
    let target: WebhookTarget;
    try {
      target = await resolveWebhookTarget(message.url, this.#options);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(describeError(error));
      // A refusal is final; a name that did not resolve may resolve on the next attempt.
      if (failure instanceof WebhookUrlRefusedError) return { kind: 'fail', error: failure };
      return { kind: 'retry', detail: { err: failure.message }, error: failure };
    }
    const headers = this.#signer
      ? { ...message.headers, ...this.#signer.headers(message.body, webhookId) }
      : message.headers;
    let status: number;
    let location: string | undefined;
    try {
      ({ status, location } = await this.#post(target, message.body, headers));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(describeError(error));
      return { kind: 'retry', detail: { err: failure.message }, error: failure };
    }
    if (status >= 200 && status < 300) return { kind: 'delivered' };
    // A signed retry refused as a replay: an earlier attempt did arrive (its answer was lost on the way).
    if (status === 409 && attempt > 1 && this.#signer) return { kind: 'delivered' };
    const httpFailure = (text: string, isRetryable: boolean) =>
      new WebhookDeliveryError({ message: text, status, attempts: attempt, isRetryable });
    if (status >= 300 && status < 400) {
      // Never followed: a redirect could point anywhere, past the SSRF guard.
      return {
        kind: 'fail',
        error: httpFailure(
          `Webhook ${originForLog(message.url)} answered ${status} (redirect${location ? ` to ${redactUrl(location)}` : ''}), which is not followed`,
          false,
        ),
      };
    }
    if (status === 408 || status === 425 || status === 429 || status >= 500) {
      return {
        kind: 'retry',
        detail: { status },
        error: httpFailure(`Webhook ${originForLog(message.url)} answered ${status}`, true),
      };
    }
    return {
      kind: 'fail',
      error: httpFailure(`Webhook ${originForLog(message.url)} refused the message with ${status}`, false),
    };
  }

  #post(
    target: WebhookTarget,
    body: string,
    headers: Readonly<Record<string, string>>,
  ): Promise<{ status: number; location: string | undefined }> {
    const secure = target.url.protocol === 'https:';
    const address = target.addresses[0];
    if (!address) return Promise.reject(new Error('no address to connect to'));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const request = (secure ? https : http).request(
        target.url,
        {
          method: 'POST',
          headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
          agent: secure ? this.#httpsAgent : this.#httpAgent,
          lookup: pinnedLookup(address),
          signal: this.#closing.signal,
        },
        (response) => {
          clearTimeout(timer);
          // Only the status matters. The body is read and thrown away so the connection can be reused,
          // but only so much of it and for so long: a webhook must not hold us with an endless body.
          discardResponseBody(response, {
            limit: DEFAULT_MAX_RESPONSE_BODY_BYTES,
            timeoutMs: this.#timeoutMs,
          });
          const location = response.headers.location;
          resolve({ status: response.statusCode ?? 0, location });
        },
      );
      timer = setTimeout(
        () => request.destroy(new TimeoutError(`Webhook did not answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      request.end(body);
    });
  }
}
