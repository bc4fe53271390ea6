import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import {
  decodeMessage,
  type JSONRPCMessage,
  type Logger,
  silentLogger,
  validateMessage,
} from '@asyncmcp/core';
import { DEFAULT_MAX_BODY_BYTES, readBody, sendJson } from './webhook-http.js';
import { type WebhookSecret, WebhookVerifier } from './webhook-signing.js';

/** Why a receiver refuses a delivery: the HTTP status and the `error` text of its `{"error": …}` body. */
export interface ReceiveRefusal {
  status: number;
  error: string;
}

export interface WebhookReceiverOptions {
  /** Verify Standard Webhooks signatures; unsigned or wrongly signed deliveries get 401. @default none */
  signingSecret?: WebhookSecret;
  /** @default 4 MiB */
  maxBodyBytes?: number;
  /** Clock in milliseconds for signature timestamps. @default Date.now */
  now?: () => number;
  logger?: Logger;
  /** Takes one decoded message; returns a refusal to answer with, or nothing to answer 200. */
  receive: (message: JSONRPCMessage, headers: IncomingHttpHeaders) => ReceiveRefusal | undefined;
}

export interface WebhookReceiverStats {
  /** Messages taken (answered 200). */
  received: number;
  /** Deliveries refused: bad body, bad signature, replay, wrong session, closed. */
  refused: number;
}

/**
 * The client's end of PROTOCOL.md §3: takes a server→client POST, answers 200 `{"status":"success"}` once
 * the message is handed on, or `{"error": …}` — 400 for a body it cannot parse, 401/409 for a signature
 * that fails, 405 for another method, 413 for an oversize body.
 */
export class WebhookReceiver {
  readonly stats: WebhookReceiverStats = { received: 0, refused: 0 };
  readonly #options: WebhookReceiverOptions;
  readonly #verifier: WebhookVerifier | undefined;
  readonly #logger: Logger;

  constructor(options: WebhookReceiverOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#verifier =
      options.signingSecret === undefined
        ? undefined
        : new WebhookVerifier({ secret: options.signingSecret, now: options.now });
  }

  /** The Node handler; mount it where the webhook URL points. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      return this.#refuse(res, { status: 405, error: 'Method not allowed' }, { Allow: 'POST' });
    }
    const body = await readBody(req, this.#options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    if (body.kind === 'too-large') return this.#refuse(res, { status: 413, error: 'Body too large' });
    if (body.kind === 'consumed') {
      return this.#refuse(res, {
        status: 400,
        error: 'The request body was already read by another handler',
      });
    }
    let verifiedId: string | undefined;
    if (this.#verifier) {
      if (body.kind !== 'raw') {
        // A signature covers the exact bytes; a parsed body cannot be checked.
        return this.#refuse(res, {
          status: 400,
          error: 'Signed webhooks need the raw body: mount the handler before any body parser',
        });
      }
      const verdict = this.#verifier.verify(req.headers, body.bytes);
      if (!verdict.ok) {
        this.#logger.warn({ reason: verdict.reason }, 'webhook delivery with a bad signature refused');
        return this.#refuse(res, { status: verdict.status, error: verdict.reason });
      }
      verifiedId = verdict.id;
    }
    const decoded = body.kind === 'raw' ? decodeMessage(body.bytes) : validateMessage(body.value);
    if (!decoded.ok) {
      if (verifiedId) this.#verifier?.forget(verifiedId);
      this.#logger.warn({ detail: decoded.error.error.message }, 'unreadable webhook delivery refused');
      return this.#refuse(res, { status: 400, error: decoded.error.error.message });
    }
    const refusal = this.#options.receive(decoded.message, req.headers);
    if (refusal) {
      if (verifiedId) this.#verifier?.forget(verifiedId);
      return this.#refuse(res, refusal);
    }
    this.stats.received++;
    sendJson(res, 200, { status: 'success' });
  };

  #refuse(res: ServerResponse, refusal: ReceiveRefusal, headers?: Record<string, string>): void {
    this.stats.refused++;
    sendJson(res, refusal.status, { error: refusal.error }, headers);
  }
}
