import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildClientAttributes, buildServerAttributes, type MessageAttributes } from './envelope.js';
import { ConfigurationError } from './errors.js';
import {
  createMessageSigning,
  MessageSigner,
  type MessageSigningOptions,
  MessageVerifier,
  SignatureAttribute,
  signedPayload,
} from './message-signing.js';
import { ManualClock } from './testing/manual-clock.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const T0 = 1_700_000_000_000;
const BODY = '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"count"}}';

function request(): MessageAttributes {
  return buildClientAttributes({
    message: { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'count' } },
    clientId: 'client-1',
    sessionId: 'session-1',
    protocolVersion: '2025-11-25',
  });
}

/** What a reader sees: the attributes as name → value, and the queue's id of the delivery. */
function received(attributes: MessageAttributes, body = BODY, deliveryId = 'sqs-1') {
  return { body, attributes, deliveryId };
}

describe('signedPayload', () => {
  it('lists every attribute but the signature’s own by name, with byte lengths, then the body', () => {
    expect(
      signedPayload(
        { SessionId: 's-é', MessageType: 'jsonrpc', Timestamp: '1', SignatureId: 'x', Signature: 'v1,y' },
        '{}',
      ),
    ).toBe('2\nMessageType=7:jsonrpc\nSessionId=4:s-é\n{}');
  });

  it('cannot be made equal by moving text between values, names and the body', () => {
    const one = signedPayload({ A: 'x\nB=1:y' }, '{}');
    const two = signedPayload({ A: 'x', B: 'y' }, '{}');
    const three = signedPayload({ A: 'x' }, 'B=1:y\n{}');
    expect(new Set([one, two, three]).size).toBe(3);
  });
});

describe('MessageSigner', () => {
  it('signs "<SignatureId>.<Timestamp>.<payload>" with HMAC-SHA256 of the decoded secret, and stamps Timestamp', () => {
    const flat = new MessageSigner({ secret: SECRET, now: () => T0 + 999 }).sign(BODY, request());
    expect(flat.Timestamp).toBe(String(T0 / 1000));
    expect(flat[SignatureAttribute.Id]).toMatch(/^msg_[0-9a-f]{32}$/);
    const key = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64');
    const expected = createHmac('sha256', key)
      .update(`${flat[SignatureAttribute.Id]}.${T0 / 1000}.${signedPayload(flat, BODY)}`)
      .digest('base64');
    expect(flat[SignatureAttribute.Signature]).toBe(`v1,${expected}`);
    // Everything the message carried is still there, unchanged.
    expect(flat.SessionId).toBe('session-1');
    expect(flat.RequestId).toBe('7');
  });

  it('gives every message a new SignatureId', () => {
    const signer = new MessageSigner({ secret: SECRET });
    const ids = new Set(
      Array.from({ length: 50 }, () => signer.sign(BODY, request())[SignatureAttribute.Id]),
    );
    expect(ids.size).toBe(50);
  });

  it('refuses to pass the 10-attribute limit', () => {
    const attributes = buildClientAttributes({
      message: { jsonrpc: '2.0', id: 1, method: 'ping' },
      clientId: 'c',
      sessionId: 's',
      protocolVersion: 'v',
      custom: { A: '1', B: '2' },
    });
    expect(() => new MessageSigner({ secret: SECRET }).sign(BODY, attributes)).toThrow(ConfigurationError);
  });

  it('refuses a secret shorter than 16 bytes', () => {
    expect(() => new MessageSigner({ secret: 'short' })).toThrow(ConfigurationError);
  });
});

describe('MessageVerifier', () => {
  /** A signer and a verifier of the secret on one clock; `verifying` sets the verifier's limits. */
  function pair(
    now: () => number,
    verifying: Pick<MessageSigningOptions, 'toleranceSeconds' | 'replayMemory'> = {},
  ) {
    return {
      signer: new MessageSigner({ secret: SECRET, now }),
      verifier: new MessageVerifier({ secret: SECRET, now, ...verifying }),
    };
  }

  it('accepts a message signed with the secret', () => {
    const { signer, verifier } = pair(() => T0);
    const verdict = verifier.verify(received(signer.sign(BODY, request())));
    expect(verdict.ok).toBe(true);
  });

  it('accepts a signed server→client message', () => {
    const { signer, verifier } = pair(() => T0);
    const attributes = signer.sign(
      BODY,
      buildServerAttributes({ message: { jsonrpc: '2.0', id: 1, result: {} }, sessionId: 's' }),
    );
    expect(verifier.verify(received(attributes, BODY, 'd')).ok).toBe(true);
  });

  it('refuses an unsigned message', () => {
    const verdict = new MessageVerifier({ secret: SECRET }).verify(received(request()));
    expect(verdict).toMatchObject({ ok: false, reason: 'unsigned' });
  });

  it('refuses a message signed with another secret', () => {
    const time = new ManualClock(T0);
    const forger = new MessageSigner({
      secret: 'whsec_YW5vdGhlciBzZWNyZXQgb2YgMTYrIGJ5dGVz',
      now: () => time.now(),
    });
    const verdict = new MessageVerifier({ secret: SECRET, now: () => time.now() }).verify(
      received(forger.sign(BODY, request())),
    );
    expect(verdict).toMatchObject({ ok: false, reason: 'forged' });
  });

  it.each([
    ['SessionId', 'session-2'],
    ['RequestId', '8'],
    ['Method', 'tools/list'],
    ['ClientId', 'client-2'],
    ['Timestamp', String(T0 / 1000 + 1)],
    ['SignatureId', 'msg_other'],
  ])('refuses a message whose %s was changed', (name, value) => {
    const { signer, verifier } = pair(() => T0);
    const flat = signer.sign(BODY, request());
    flat[name] = value;
    expect(verifier.verify({ body: BODY, attributes: flat, deliveryId: 'd' })).toMatchObject({
      ok: false,
      reason: 'forged',
    });
  });

  it('refuses a message with an attribute added or removed', () => {
    const { signer, verifier } = pair(() => T0);
    const flat = signer.sign(BODY, request());
    expect(
      verifier.verify({ body: BODY, attributes: { ...flat, Extra: 'x' }, deliveryId: 'a' }),
    ).toMatchObject({
      reason: 'forged',
    });
    const { ProtocolVersion: _, ...without } = flat;
    expect(verifier.verify({ body: BODY, attributes: without, deliveryId: 'b' })).toMatchObject({
      reason: 'forged',
    });
  });

  it('refuses a message whose body was changed', () => {
    const { signer, verifier } = pair(() => T0);
    const attributes = signer.sign(BODY, request());
    expect(verifier.verify(received(attributes, BODY.replace('count', 'wipe')))).toMatchObject({
      reason: 'forged',
    });
  });

  it('refuses a Timestamp that is not whole seconds', () => {
    const { signer, verifier } = pair(() => T0);
    const flat = signer.sign(BODY, request());
    flat.Timestamp = `${flat.Timestamp}.5`;
    expect(verifier.verify({ body: BODY, attributes: flat, deliveryId: 'd' })).toMatchObject({
      reason: 'malformed',
    });
  });

  it('accepts a message up to the tolerance old or ahead, and refuses it a second later', () => {
    const time = new ManualClock(T0);
    const { signer, verifier } = pair(() => time.now(), { toleranceSeconds: 60 });
    const old = signer.sign(BODY, request());
    const older = signer.sign(BODY, request());
    time.advance(60_000);
    expect(verifier.verify(received(old, BODY, 'a')).ok).toBe(true);
    time.advance(1_000);
    expect(verifier.verify(received(older, BODY, 'b'))).toMatchObject({ ok: false, reason: 'stale' });

    const ahead = new MessageSigner({ secret: SECRET, now: () => time.now() + 61_000 }).sign(BODY, request());
    expect(verifier.verify(received(ahead, BODY, 'c'))).toMatchObject({ ok: false, reason: 'stale' });
  });

  it('refuses a replay: the same signed message sent again, as a new queue message', () => {
    const { signer, verifier } = pair(() => T0);
    const attributes = signer.sign(BODY, request());
    expect(verifier.verify(received(attributes, BODY, 'sqs-1')).ok).toBe(true);
    expect(verifier.verify(received(attributes, BODY, 'sqs-2'))).toMatchObject({
      ok: false,
      reason: 'replayed',
    });
  });

  it('accepts a redelivery of the queue message it accepted (a retry, a hand-back) within the tolerance', () => {
    const time = new ManualClock(T0);
    const { signer, verifier } = pair(() => time.now(), { toleranceSeconds: 60 });
    const attributes = signer.sign(BODY, request());
    expect(verifier.verify(received(attributes, BODY, 'sqs-1')).ok).toBe(true);
    time.advance(30_000);
    expect(verifier.verify(received(attributes, BODY, 'sqs-1')).ok).toBe(true);
    time.advance(31_000);
    expect(verifier.verify(received(attributes, BODY, 'sqs-1'))).toMatchObject({
      ok: false,
      reason: 'stale',
    });
  });

  it('keeps ids for the tolerance window: a full memory refuses new messages as busy until ids expire', () => {
    const time = new ManualClock(T0);
    const { signer, verifier } = pair(() => time.now(), { toleranceSeconds: 60, replayMemory: 3 });
    const first = signer.sign(BODY, request());
    expect(verifier.verify(received(first, BODY, 'd0')).ok).toBe(true);
    for (let index = 1; index < 3; index++) {
      expect(verifier.verify(received(signer.sign(BODY, request()), BODY, `d${index}`)).ok).toBe(true);
    }
    const waiting = signer.sign(BODY, request());
    expect(verifier.verify(received(waiting, BODY, 'd3'))).toMatchObject({ ok: false, reason: 'busy' });
    // The first is still remembered, so its replay is still refused.
    expect(verifier.verify(received(first, BODY, 'replay'))).toMatchObject({ reason: 'replayed' });
    expect(verifier.remembered).toBe(3);

    time.advance(61_000);
    const fresh = signer.sign(BODY, request());
    expect(verifier.verify(received(fresh, BODY, 'd4')).ok).toBe(true);
    expect(verifier.remembered).toBe(1);
  });

  it('accepts any v1 entry of a rotated secret, and skips other schemes', () => {
    const time = new ManualClock(T0);
    const flat = new MessageSigner({ secret: SECRET, now: () => time.now() }).sign(BODY, request());
    flat.Signature = `v2,abc v1,${Buffer.alloc(32).toString('base64')} ${flat.Signature}`;
    expect(
      new MessageVerifier({ secret: SECRET, now: () => time.now() }).verify({
        body: BODY,
        attributes: flat,
        deliveryId: 'd',
      }).ok,
    ).toBe(true);
  });
});

describe('createMessageSigning', () => {
  it('is undefined without a secret', () => {
    expect(createMessageSigning({ secret: undefined })).toBeUndefined();
  });

  it('refuses a tolerance that is not a whole number of seconds', () => {
    expect(() => createMessageSigning({ secret: SECRET, toleranceSeconds: 0 })).toThrow(ConfigurationError);
  });
});
