import type { IncomingHttpHeaders } from 'node:http';
import {
  computeSignature,
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  newSignatureId,
  parseSignatureTimestamp,
  SigningKey,
  type SigningSecret,
  signingKey,
} from '@asyncmcp/core';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com), our opt-in addition to PROTOCOL.md §3.
 * Python peers neither send nor check these headers. The scheme itself is core's (`signature.ts`), the
 * same one queue messages are signed with; this module puts it in HTTP headers.
 */

/**
 * A shared secret. A string is decoded as Standard Webhooks says: base64, optionally after a `whsec_`
 * prefix — so a secret made by any Standard Webhooks tool works as it is, and both spellings name the
 * same key. A `Uint8Array` is the key bytes themselves.
 */
export type WebhookSecret = SigningSecret;

export { computeSignature, DEFAULT_SIGNATURE_TOLERANCE_SECONDS };

export const SignatureHeader = {
  Id: 'webhook-id',
  Timestamp: 'webhook-timestamp',
  Signature: 'webhook-signature',
} as const;

/**
 * The key bytes of a secret, decoded as Standard Webhooks says (base64, optionally after `whsec_`).
 * Refuses, without echoing it, a string that is not base64 and a key too short to resist guessing;
 * `name` says which setting the message is about.
 */
export const decodeWebhookSecret: (secret: WebhookSecret, name?: string) => Buffer = signingKey;

/** The key bytes of a secret (`decodeWebhookSecret` under its earlier name). */
export const secretKey: (secret: WebhookSecret) => Buffer = signingKey;

/** A fresh message id: unique per message, kept across retries of it (Standard Webhooks' idempotency key). */
export const newWebhookId: () => string = newSignatureId;

/** Signs outgoing bodies with one secret. */
export class WebhookSigner {
  readonly #key: SigningKey;

  constructor(secret: WebhookSecret, now: () => number = Date.now) {
    this.#key = new SigningKey(secret, { now });
  }

  /** The three signature headers for `body`; pass the same `id` on every retry of one message. */
  headers(body: string | Buffer, id: string = newWebhookId()): Record<string, string> {
    const timestamp = this.#key.nowSeconds();
    return {
      [SignatureHeader.Id]: id,
      [SignatureHeader.Timestamp]: String(timestamp),
      [SignatureHeader.Signature]: this.#key.sign(id, timestamp, body),
    };
  }
}

export interface WebhookVerifierOptions {
  secret: WebhookSecret;
  /** @default 300 */
  toleranceSeconds?: number;
  /** How many recently seen `webhook-id`s are remembered to refuse replays. @default 10000 */
  replayMemory?: number;
  /** Clock in milliseconds; replace it in tests. @default Date.now */
  now?: () => number;
}

export type VerifyResult =
  | { ok: true; id: string }
  | {
      ok: false;
      /** 401 for a missing, malformed, stale or wrong signature; 409 for a replayed `webhook-id`. */
      status: 401 | 409;
      reason: string;
    };

/**
 * Checks incoming signatures: HMAC compared in constant time, the timestamp within the tolerance, and a
 * `webhook-id` not seen before. The memory of seen ids is bounded in count; ids older than twice the
 * tolerance are forgotten first, as their timestamps would be refused anyway.
 */
export class WebhookVerifier {
  readonly #key: SigningKey;
  readonly #toleranceSeconds: number;
  readonly #memory: number;
  /** id → the time (ms) after which its timestamp is refused anyway. Insertion order ≈ arrival order. */
  readonly #seen = new Map<string, number>();

  constructor(options: WebhookVerifierOptions) {
    this.#key = new SigningKey(options.secret, { now: options.now });
    this.#toleranceSeconds = options.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
    this.#memory = options.replayMemory ?? 10_000;
  }

  verify(headers: IncomingHttpHeaders, body: string | Buffer): VerifyResult {
    const id = single(headers[SignatureHeader.Id]);
    const timestampText = single(headers[SignatureHeader.Timestamp]);
    const signatures = single(headers[SignatureHeader.Signature]);
    if (!id || !timestampText || !signatures) {
      return { ok: false, status: 401, reason: 'Missing webhook signature headers' };
    }
    const timestamp = parseSignatureTimestamp(timestampText);
    if (timestamp === undefined) {
      return { ok: false, status: 401, reason: 'Invalid webhook-timestamp' };
    }
    const nowSeconds = this.#key.nowSeconds();
    if (Math.abs(nowSeconds - timestamp) > this.#toleranceSeconds) {
      return { ok: false, status: 401, reason: 'webhook-timestamp outside the tolerance' };
    }
    // The header may list several signatures (during a secret rotation); any valid v1 one is enough.
    if (!this.#key.matches(id, timestamp, body, signatures)) {
      return { ok: false, status: 401, reason: 'Invalid webhook signature' };
    }
    if (this.#seen.has(id)) return { ok: false, status: 409, reason: `Replayed webhook-id: ${id}` };
    this.#remember(id, (timestamp + this.#toleranceSeconds * 2) * 1000);
    return { ok: true, id };
  }

  /**
   * Forgets an id that was verified but not taken (the receiver answered with an error), so a retry of
   * the same message is not mistaken for a replay.
   */
  forget(id: string): void {
    this.#seen.delete(id);
  }

  get remembered(): number {
    return this.#seen.size;
  }

  #remember(id: string, expiresAt: number): void {
    this.#seen.set(id, expiresAt);
    if (this.#seen.size <= this.#memory) return;
    const now = this.#key.now();
    // Arrival order is close to expiry order: the expired ones are at the front.
    for (const [seenId, expiry] of this.#seen) {
      if (this.#seen.size <= this.#memory || expiry >= now) break;
      this.#seen.delete(seenId);
    }
    while (this.#seen.size > this.#memory) {
      const oldest = this.#seen.keys().next().value;
      if (oldest === undefined) break;
      this.#seen.delete(oldest);
    }
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
