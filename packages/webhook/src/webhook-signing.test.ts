import { createHmac } from 'node:crypto';
import { ConfigurationError } from '@asyncmcp/core';
import { describe, expect, it } from 'vitest';
import { SignatureHeader, secretKey, WebhookSigner, WebhookVerifier } from './webhook-signing.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const T0 = 1_700_000_000_000;

function clock(start = T0) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

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

  it('matches the Standard Webhooks reference vector', () => {
    // From the standard-webhooks specification's test suite.
    const headers = new WebhookSigner(SECRET, () => 1614265330_000).headers(
      '{"test": 2432232314}',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
    );
    expect(headers[SignatureHeader.Signature]).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('uses a plain string secret as its UTF-8 bytes and refuses short secrets', () => {
    expect(secretKey('a-plain-secret-of-32-characters!')).toEqual(
      Buffer.from('a-plain-secret-of-32-characters!'),
    );
    expect(() => secretKey('short')).toThrow(ConfigurationError);
    expect(() => new WebhookVerifier({ secret: new Uint8Array(4) })).toThrow(ConfigurationError);
  });

  it('verifies a good signature once and refuses its replay with 409', () => {
    const time = clock();
    const signer = new WebhookSigner(SECRET, time.now);
    const verifier = new WebhookVerifier({ secret: SECRET, now: time.now });
    const headers = signer.headers('body', 'msg_once');
    expect(verifier.verify(headers, 'body')).toEqual({ ok: true, id: 'msg_once' });
    expect(verifier.verify(headers, 'body')).toMatchObject({ ok: false, status: 409 });
    // A verified message the receiver did not take may come again (a retry).
    verifier.forget('msg_once');
    expect(verifier.verify(headers, 'body')).toMatchObject({ ok: true });
  });

  it('refuses a wrong secret, a changed body, a changed id and missing headers with 401', () => {
    const time = clock();
    const verifier = new WebhookVerifier({ secret: SECRET, now: time.now });
    const forged = new WebhookSigner('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', time.now).headers('body');
    expect(verifier.verify(forged, 'body')).toMatchObject({
      ok: false,
      status: 401,
      reason: 'Invalid webhook signature',
    });
    const good = new WebhookSigner(SECRET, time.now).headers('body');
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
    const time = clock();
    const verifier = new WebhookVerifier({ secret: SECRET, now: time.now });
    const good = new WebhookSigner(SECRET, time.now).headers('body', 'msg_rot');
    const signature = `v2,abc v1,AAAA ${good[SignatureHeader.Signature]}`;
    expect(verifier.verify({ ...good, [SignatureHeader.Signature]: signature }, 'body')).toMatchObject({
      ok: true,
    });
  });

  it('refuses timestamps more than 5 minutes off, either way', () => {
    const time = clock();
    const verifier = new WebhookVerifier({ secret: SECRET, now: time.now });
    const old = new WebhookSigner(SECRET, () => T0 - 301_000).headers('body');
    const future = new WebhookSigner(SECRET, () => T0 + 301_000).headers('body');
    const edge = new WebhookSigner(SECRET, () => T0 - 299_000).headers('body');
    expect(verifier.verify(old, 'body')).toMatchObject({ ok: false, status: 401 });
    expect(verifier.verify(future, 'body')).toMatchObject({ ok: false, status: 401 });
    expect(verifier.verify(edge, 'body')).toMatchObject({ ok: true });
  });

  it('remembers a bounded number of ids, forgetting expired ones first', () => {
    const time = clock();
    const signer = new WebhookSigner(SECRET, time.now);
    const verifier = new WebhookVerifier({ secret: SECRET, now: time.now, replayMemory: 3 });
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
