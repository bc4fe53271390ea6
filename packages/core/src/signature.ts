import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigurationError } from './errors.js';

/**
 * The one signature scheme of asyncmcp, Standard Webhooks' (https://www.standardwebhooks.com) `v1`:
 * HMAC-SHA256 of `"<id>.<timestamp>.<payload>"` with a shared secret. Webhooks sign their body with it
 * (PROTOCOL.md §3); queue messages sign their body and attributes with it (`message-signing.ts`).
 */

/**
 * A shared secret. A string is decoded as Standard Webhooks says: base64, optionally after a `whsec_`
 * prefix — so a secret made by any Standard Webhooks tool works as it is, and both spellings name the
 * same key. A `Uint8Array` is the key bytes themselves.
 */
export type SigningSecret = string | Uint8Array;

/** How far a signed timestamp may be from our clock, either way: 5 minutes. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

const MIN_SECRET_BYTES = 16;
const SECRET_PREFIX = 'whsec_';
// Standard base64, padded or not, as the Standard Webhooks libraries decode it. Node's own decoder skips
// any character it does not know, which would turn a mistyped secret into a different key without a word.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/**
 * The key bytes of a secret. Refuses, without echoing it, a string that is not base64 and a key too
 * short to resist guessing; `name` says which setting the message is about.
 */
export function signingKey(secret: SigningSecret, name = 'signingSecret'): Buffer {
  let key: Buffer;
  if (typeof secret === 'string') {
    const encoded = (secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret).trim();
    if (!BASE64.test(encoded)) {
      throw new ConfigurationError(
        `${name} is not a Standard Webhooks secret: use base64, optionally after whsec_, such as the output of openssl rand -base64 32 (a passphrase keeps its key as whsec_ followed by its base64)`,
      );
    }
    key = Buffer.from(encoded, 'base64');
  } else {
    key = Buffer.from(secret);
  }
  if (key.length < MIN_SECRET_BYTES) {
    throw new ConfigurationError(
      `${name} is too short: use at least ${MIN_SECRET_BYTES} bytes after base64 decoding (${key.length} given), such as the output of openssl rand -base64 32`,
    );
  }
  return key;
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<payload>">`. */
export function computeSignature(
  key: Buffer,
  id: string,
  timestamp: number,
  payload: string | Buffer,
): string {
  const hmac = createHmac('sha256', key);
  hmac.update(`${id}.${timestamp}.`);
  hmac.update(payload);
  return `v1,${hmac.digest('base64')}`;
}

/**
 * Whether `signatures` — one or more space-separated `v1,<base64>` entries (several during a secret
 * rotation) — holds a valid signature of the payload, compared in constant time. Entries of other
 * schemes are skipped.
 */
export function signatureMatches(
  key: Buffer,
  id: string,
  timestamp: number,
  payload: string | Buffer,
  signatures: string,
): boolean {
  const expected = Buffer.from(computeSignature(key, id, timestamp, payload).slice(3), 'base64');
  let matched = false;
  for (const candidate of signatures.split(' ')) {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || value === undefined) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched;
}

/** A fresh message id: unique per message, kept across retries of it (Standard Webhooks' idempotency key). */
export function newSignatureId(): string {
  return `msg_${randomBytes(16).toString('hex')}`;
}

/** A signed timestamp as it may be written: whole Unix seconds, at most 12 digits. */
export function parseSignatureTimestamp(text: string): number | undefined {
  return /^\d{1,12}$/.test(text) ? Number(text) : undefined;
}

/**
 * One secret's key with the clock its timestamps are read from: what every signer and verifier of a
 * channel holds, so signing and checking are written once whatever the channel puts them in.
 */
export class SigningKey {
  readonly #key: Buffer;
  readonly #now: () => number;

  /** `name` says which setting an error about the secret is about. */
  constructor(secret: SigningSecret, options: { name?: string; now?: (() => number) | undefined } = {}) {
    this.#key = signingKey(secret, options.name);
    this.#now = options.now ?? Date.now;
  }

  /** The clock, in milliseconds. */
  now(): number {
    return this.#now();
  }

  /** The clock in whole Unix seconds, as timestamps are signed. */
  nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  /** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<payload>">`. */
  sign(id: string, timestamp: number, payload: string | Buffer): string {
    return computeSignature(this.#key, id, timestamp, payload);
  }

  /** Whether one of `signatures` (space-separated) signs the payload; compared in constant time. */
  matches(id: string, timestamp: number, payload: string | Buffer, signatures: string): boolean {
    return signatureMatches(this.#key, id, timestamp, payload, signatures);
  }
}
