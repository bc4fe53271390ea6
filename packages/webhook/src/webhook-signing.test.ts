import { createHmac } from 'node:crypto';
import { ConfigurationError } from '@asyncmcp/core';
import { ManualClock } from '@asyncmcp/core/testing';
import { describe, expect, it } from 'vitest';
import { decodeWebhookSecret, SignatureHeader, WebhookSigner, WebhookVerifier } from './webhook-signing.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const T0 = 1_700_000_000_000;

describe('Standard Webhooks signing', () => {
  it('signs "<id>.<timestamp>.<body>" with HMAC-SHA256 of the decoded whsec_ secret', () => {
    const headers = new WebhookSigner(SECRET, () => T0).headers('{"a":1}', 'msg_1');
    const key = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64');
    const expected = createHmac('sha256', key)
      .update(`msg_1.${T0 / 1000}.{"a":1}`)
      .digest('base64');
    expect(headers).toEqual({
      [SignatureHeader.Id]: 'msg_1',
      [SignatureHeader.Timestamp]: String(T0 / 1000),
      [SignatureHeader.Signature]: `v1,${expected}`,
    });
  });

  it('uses a Uint8Array as the key bytes and refuses short secrets', () => {
    expect(decodeWebhookSecret(new Uint8Array(16).fill(7))).toEqual(Buffer.alloc(16, 7));
    expect(() => decodeWebhookSecret('whsec_c2hvcnQ=')).toThrow(
      /at least 16 bytes after base64 decoding \(5 given\)/,
    );
    expect(() => new WebhookVerifier({ secret: new Uint8Array(4) })).toThrow(ConfigurationError);
  });
});

/**
 * The vectors the Standard Webhooks specification publishes with its reference libraries
 * (github.com/standard-webhooks/standard-webhooks: libraries/javascript/src/webhook.test.ts and
 * libraries/python/tests/test_webhooks.py).
 */
describe('Standard Webhooks published test vectors', () => {
  const VECTOR = {
    secret: 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestampMs: 1614265330_000,
    payload: '{"test": 2432232314}',
    signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  };
  const at = () => VECTOR.timestampMs;
  const headers = (signature: string) => ({
    [SignatureHeader.Id]: VECTOR.id,
    [SignatureHeader.Timestamp]: String(VECTOR.timestampMs / 1000),
    [SignatureHeader.Signature]: signature,
  });

  it('signs the vector to its published signature, with and without the whsec_ prefix', () => {
    for (const secret of [`whsec_${VECTOR.secret}`, VECTOR.secret]) {
      const signed = new WebhookSigner(secret, at).headers(VECTOR.payload, VECTOR.id);
      expect(signed[SignatureHeader.Signature], secret).toBe(VECTOR.signature);
    }
  });

  it('verifies the published signature with and without the prefix', () => {
    for (const secret of [`whsec_${VECTOR.secret}`, VECTOR.secret]) {
      const verifier = new WebhookVerifier({ secret, now: at });
      expect(verifier.verify(headers(VECTOR.signature), VECTOR.payload)).toEqual({ ok: true, id: VECTOR.id });
    }
  });

  it('refuses the invalid and partial signatures of the suite', () => {
    for (const signature of [
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=',
      'v1,dawfeoifkpqwoekfpqoekf',
      VECTOR.signature.slice(0, 8),
      'v1,',
    ]) {
      const verifier = new WebhookVerifier({ secret: VECTOR.secret, now: at });
      expect(verifier.verify(headers(signature), VECTOR.payload), signature).toMatchObject({
        ok: false,
        status: 401,
        reason: 'Invalid webhook signature',
      });
    }
  });

  it('accepts the multi-signature header of the suite', () => {
    const verifier = new WebhookVerifier({ secret: VECTOR.secret, now: at });
    const signature = [
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      VECTOR.signature,
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
    ].join(' ');
    expect(verifier.verify(headers(signature), VECTOR.payload)).toMatchObject({ ok: true });
  });
});

describe('secret decoding', () => {
  const PASSPHRASE = 'a-plain-secret-of-32-characters!';

  it('base64-decodes every string secret, prefixed or not, padded or not', () => {
    const encoded = 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const bytes = Buffer.from(encoded, 'base64');
    expect(bytes).toHaveLength(24);
    expect(decodeWebhookSecret(encoded)).toEqual(bytes);
    expect(decodeWebhookSecret(`whsec_${encoded}`)).toEqual(bytes);
    const unpadded = Buffer.alloc(20, 9).toString('base64').replace(/=+$/, '');
    expect(decodeWebhookSecret(unpadded)).toEqual(Buffer.alloc(20, 9));
  });

  it('refuses a passphrase that is not base64, with an error that does not echo it', () => {
    let error: unknown;
    try {
      decodeWebhookSecret(PASSPHRASE);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(
      /is not a Standard Webhooks secret: use base64, optionally after whsec_/,
    );
    expect((error as Error).message).not.toContain(PASSPHRASE);
    expect(() => decodeWebhookSecret('whsec_not base64 at all!!')).toThrow(ConfigurationError);
  });

  it('keeps an old passphrase key as whsec_ followed by its base64: the bytes it stood for before', () => {
    const migrated = `whsec_${Buffer.from(PASSPHRASE, 'utf8').toString('base64')}`;
    expect(decodeWebhookSecret(migrated)).toEqual(Buffer.from(PASSPHRASE, 'utf8'));
  });
});

describe('verification', () => {
  it('verifies a good signature once and refuses its replay with 409', () => {
    const time = new ManualClock(T0);
    const signer = new WebhookSigner(SECRET, () => time.now());
    const verifier = new WebhookVerifier({ secret: SECRET, now: () => time.now() });
    const headers = signer.headers('body', 'msg_once');
    expect(verifier.verify(headers, 'body')).toEqual({ ok: true, id: 'msg_once' });
    expect(verifier.verify(headers, 'body')).toMatchObject({ ok: false, status: 409 });
    // A verified message the receiver did not take may come again (a retry).
    verifier.forget('msg_once');
    expect(verifier.verify(headers, 'body')).toMatchObject({ ok: true });
  });

  it('refuses a wrong secret, a changed body, a changed id and missing headers with 401', () => {
    const time = new ManualClock(T0);
    const verifier = new WebhookVerifier({ secret: SECRET, now: () => time.now() });
    const forged = new WebhookSigner('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', () => time.now()).headers(
      'body',
    );
    expect(verifier.verify(forged, 'body')).toMatchObject({
      ok: false,
      status: 401,
      reason: 'Invalid webhook signature',
    });
    const good = new WebhookSigner(SECRET, () => time.now()).headers('body');
    expect(verifier.verify(good, 'body!')).toMatchObject({ ok: false, status: 401 });
    expect(verifier.verify({ ...good, [SignatureHeader.Id]: 'msg_other' }, 'body')).toMatchObject({
      ok: false,
    });
    expect(verifier.verify({}, 'body')).toMatchObject({ ok: false, status: 401 });
    expect(verifier.verify({ ...good, [SignatureHeader.Signature]: 'v1,!!!' }, 'body')).toMatchObject({
      ok: false,
    });
    expect(verifier.verify({ ...good, [SignatureHeader.Timestamp]: 'soon' }, 'body')).toMatchObject({
      ok: false,
    });
  });

  it('accepts any valid v1 signature among several (secret rotation)', () => {
    const time = new ManualClock(T0);
    const verifier = new WebhookVerifier({ secret: SECRET, now: () => time.now() });
    const good = new WebhookSigner(SECRET, () => time.now()).headers('body', 'msg_rot');
    const signature = `v2,abc v1,AAAA ${good[SignatureHeader.Signature]}`;
    expect(verifier.verify({ ...good, [SignatureHeader.Signature]: signature }, 'body')).toMatchObject({
      ok: true,
    });
  });

  it('refuses timestamps more than 5 minutes off, either way', () => {
    const time = new ManualClock(T0);
    const verifier = new WebhookVerifier({ secret: SECRET, now: () => time.now() });
    const old = new WebhookSigner(SECRET, () => T0 - 301_000).headers('body');
    const future = new WebhookSigner(SECRET, () => T0 + 301_000).headers('body');
    const edge = new WebhookSigner(SECRET, () => T0 - 299_000).headers('body');
    expect(verifier.verify(old, 'body')).toMatchObject({ ok: false, status: 401 });
    expect(verifier.verify(future, 'body')).toMatchObject({ ok: false, status: 401 });
    expect(verifier.verify(edge, 'body')).toMatchObject({ ok: true });
  });

  it('remembers a bounded number of ids, forgetting expired ones first', () => {
    const time = new ManualClock(T0);
    const signer = new WebhookSigner(SECRET, () => time.now());
    const verifier = new WebhookVerifier({ secret: SECRET, now: () => time.now(), replayMemory: 3 });
    const first = signer.headers('b', 'msg_1');
    verifier.verify(first, 'b');
    time.advance(700_000); // msg_1 is now past twice the tolerance
    for (const id of ['msg_2', 'msg_3', 'msg_4'])
      expect(verifier.verify(signer.headers('b', id), 'b').ok).toBe(true);
    expect(verifier.remembered).toBe(3);
    // The newest are still refused as replays.
    expect(verifier.verify(signer.headers('b', 'msg_4'), 'b')).toMatchObject({ status: 409 });
  });
});
