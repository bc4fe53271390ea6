import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigurationError } from './errors.js';

/**
 * The one signature scheme of asyncmcp, Standard Webhooks' (https://www.standardwebhooks.com) `v1`:
 * HMAC-SHA256 of `"<id>.<timestamp>.<payload>"` with a shared secret. Webhooks sign their body with it
 * (PROTOCOL.md §3); queue messages sign their body and attributes with it (`message-signing.ts`).
 */

/**
 * A shared secret. A string starting with `whsec_` is the Standard Webhooks form (base64 after the
 * prefix), so secrets made by Standard Webhooks tooling work as they are; any other string is used as
 * its UTF-8 bytes.
 */
export type SigningSecret = string | Uint8Array;

/** How far a signed timestamp may be from our clock, either way: 5 minutes. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

const MIN_SECRET_BYTES = 16;

/** The key bytes of a secret; refuses a short one, which could be guessed. */
export function signingKey(secret: SigningSecret): Buffer {
  let key: Buffer;
  if (typeof secret === 'string') {
    key = secret.startsWith('whsec_')
      ? Buffer.from(secret.slice('whsec_'.length), 'base64')
      : Buffer.from(secret, 'utf8');
  } else {
    key = Buffer.from(secret);
  }
  if (key.length < MIN_SECRET_BYTES) {
    throw new ConfigurationError(`signingSecret must be at least ${MIN_SECRET_BYTES} bytes long`);
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
