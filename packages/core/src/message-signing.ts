import { Attribute, MAX_MESSAGE_ATTRIBUTES, type MessageAttributes } from './envelope.js';
import { ConfigurationError } from './errors.js';
import {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  newSignatureId,
  parseSignatureTimestamp,
  SigningKey,
  type SigningSecret,
} from './signature.js';

/**
 * Signed queue messages (docs/protocol.md §8, "Signature"): the Standard Webhooks scheme of
 * `signature.ts` over a message's body AND its message attributes, so neither the JSON-RPC message
 * nor its routing (`SessionId`, `RequestId`, …) can be changed, and a message cannot be injected
 * without the secret. Python peers neither send nor check these attributes.
 */

export const SignatureAttribute = {
  /** Unique per message (Standard Webhooks' `webhook-id`); the key of the replay check. */
  Id: 'SignatureId',
  /** `v1,<base64 HMAC-SHA256>`, one or more, space-separated. */
  Signature: 'Signature',
} as const;

/** What signing adds to a message; `Timestamp` (PROTOCOL.md §1) is signed, not added. */
export const SIGNATURE_ATTRIBUTE_COUNT = 2;

/** Attributes that are not part of the signed attribute block: the signature's own. */
const UNSIGNED = new Set<string>([SignatureAttribute.Id, SignatureAttribute.Signature, Attribute.Timestamp]);

/**
 * What the signature covers after `"<SignatureId>.<Timestamp>."`: the number of signed attributes and a
 * newline, then for each attribute but `SignatureId`, `Signature` and `Timestamp`, in ascending order of
 * name (code units; names are ASCII), `<name>=<UTF-8 byte length of value>:<value>\n`, then the body.
 * Lengths make the block unambiguous whatever the values hold.
 */
export function signedPayload(attributes: Readonly<Record<string, string>>, body: string): string {
  const names = Object.keys(attributes)
    .filter((name) => !UNSIGNED.has(name))
    .sort();
  let block = `${names.length}\n`;
  for (const name of names) {
    const value = attributes[name] as string;
    block += `${name}=${Buffer.byteLength(value, 'utf8')}:${value}\n`;
  }
  return block + body;
}

export interface MessageSigningOptions {
  secret: SigningSecret;
  /** How far a message's `Timestamp` may be from our clock, either way. @default 300 */
  toleranceSeconds?: number;
  /**
   * How many message ids are remembered to refuse replays; each is kept until its timestamp would be
   * refused anyway. @default 100000
   */
  replayMemory?: number;
  /** Clock in milliseconds; replace it in tests. @default Date.now */
  now?: () => number;
}

/** Signs outgoing queue messages with one secret. */
export class MessageSigner {
  readonly #key: SigningKey;

  constructor(options: Pick<MessageSigningOptions, 'secret' | 'now'>) {
    this.#key = new SigningKey(options.secret, { now: options.now });
  }

  /**
   * `attributes` with the signature of `body` and them: `Timestamp` set to now, a fresh `SignatureId`,
   * and `Signature`. Throws a `ConfigurationError` when they would pass the attribute limit.
   */
  sign(body: string, attributes: Readonly<MessageAttributes>): MessageAttributes {
    const signed: MessageAttributes = { ...attributes };
    delete signed[SignatureAttribute.Signature];
    const timestamp = this.#key.nowSeconds();
    const id = newSignatureId();
    signed[Attribute.Timestamp] = String(timestamp);
    signed[SignatureAttribute.Id] = id;
    const count = Object.keys(signed).length + 1;
    if (count > MAX_MESSAGE_ATTRIBUTES) {
      throw new ConfigurationError(
        `A signed message would carry ${count} message attributes, over the limit of ${MAX_MESSAGE_ATTRIBUTES}: use fewer custom attributes`,
      );
    }
    signed[SignatureAttribute.Signature] = this.#key.sign(id, timestamp, signedPayload(signed, body));
    return signed;
  }
}

/** Why a message was refused. */
export type SignatureRefusal =
  /** No `SignatureId`, `Timestamp` or `Signature`. */
  | 'unsigned'
  /** A `Timestamp` that is not whole Unix seconds. */
  | 'malformed'
  /** No signature entry matches: another secret, or a changed body or attribute. */
  | 'forged'
  /** Signed longer ago (or further ahead) than the tolerance. */
  | 'stale'
  /** A `SignatureId` seen before, in another queue message. */
  | 'replayed'
  /** The replay memory is full of ids still within the tolerance: try the message again later. */
  | 'busy';

export type SignatureVerdict =
  | { ok: true; id: string }
  | { ok: false; reason: SignatureRefusal; detail: string };

export interface SignedMessage {
  body: string;
  /** Every message attribute as received (an SNS envelope's merged in), name → value. */
  attributes: Readonly<Record<string, string>>;
  /**
   * The queue's own id of this delivery (SQS `MessageId`), which a sender cannot choose: the same
   * message handed out again (visibility timeout, hand-back) keeps it, a message sent again gets a new one.
   */
  deliveryId: string;
}

/**
 * Checks signed queue messages: HMAC compared in constant time, the timestamp within the tolerance, and
 * a `SignatureId` not seen in another queue message. A redelivery of a message already accepted (the
 * same `SignatureId` and queue message id) is accepted again while its id is remembered, so a retried
 * or handed-back message is not mistaken for a replay. The memory is bounded in count; ids are kept
 * until their timestamp would be refused anyway, and when it is full of such ids, new messages get
 * `busy` (to be tried later) rather than letting a replay through.
 */
export class MessageVerifier {
  readonly #key: SigningKey;
  readonly #toleranceSeconds: number;
  readonly #memory: number;
  /** SignatureId → the delivery it came in and the time (ms) from which its timestamp is refused anyway. */
  readonly #seen = new Map<string, { deliveryId: string; expiresAt: number }>();

  constructor(options: MessageSigningOptions) {
    this.#key = new SigningKey(options.secret, { now: options.now });
    this.#toleranceSeconds = options.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
    if (!Number.isInteger(this.#toleranceSeconds) || this.#toleranceSeconds < 1) {
      throw new ConfigurationError('signatureToleranceSeconds must be a whole number of seconds, 1 or more');
    }
    this.#memory = options.replayMemory ?? 100_000;
  }

  get toleranceSeconds(): number {
    return this.#toleranceSeconds;
  }

  /** How many message ids are remembered now. */
  get remembered(): number {
    return this.#seen.size;
  }

  verify(message: SignedMessage): SignatureVerdict {
    const { attributes } = message;
    const id = attributes[SignatureAttribute.Id];
    const timestampText = attributes[Attribute.Timestamp];
    const signatures = attributes[SignatureAttribute.Signature];
    if (!id || !timestampText || !signatures) {
      return { ok: false, reason: 'unsigned', detail: 'the message is not signed' };
    }
    const timestamp = parseSignatureTimestamp(timestampText);
    if (timestamp === undefined) {
      return { ok: false, reason: 'malformed', detail: 'Timestamp is not whole Unix seconds' };
    }
    const payload = signedPayload(attributes, message.body);
    if (!this.#key.matches(id, timestamp, payload, signatures)) {
      return { ok: false, reason: 'forged', detail: 'no signature matches the message' };
    }
    const now = this.#key.now();
    const seen = this.#seen.get(id);
    if (seen !== undefined && now < seen.expiresAt) {
      if (seen.deliveryId === message.deliveryId) return { ok: true, id };
      return { ok: false, reason: 'replayed', detail: `SignatureId ${id} was seen in another message` };
    }
    if (Math.abs(Math.floor(now / 1000) - timestamp) > this.#toleranceSeconds) {
      return {
        ok: false,
        reason: 'stale',
        detail: `signed ${Math.floor(now / 1000) - timestamp} s ago, outside the tolerance of ${this.#toleranceSeconds} s`,
      };
    }
    if (!this.#makeRoom(now)) {
      return {
        ok: false,
        reason: 'busy',
        detail: 'the replay memory is full; the message is tried again later',
      };
    }
    // Remembered until a copy of it would be refused as stale: the last second its timestamp passes.
    this.#seen.set(id, {
      deliveryId: message.deliveryId,
      expiresAt: (timestamp + this.#toleranceSeconds + 1) * 1000,
    });
    return { ok: true, id };
  }

  /** Frees a slot for one more id if the memory is full: expired ids go, never live ones. */
  #makeRoom(now: number): boolean {
    if (this.#seen.size < this.#memory) return true;
    // Arrival order is close to expiry order: the expired ones are mostly at the front.
    for (const [id, entry] of this.#seen) {
      if (entry.expiresAt > now) break;
      this.#seen.delete(id);
    }
    if (this.#seen.size < this.#memory) return true;
    for (const [id, entry] of this.#seen) {
      if (entry.expiresAt <= now) this.#seen.delete(id);
    }
    return this.#seen.size < this.#memory;
  }
}

/** A signer and a verifier of one secret: what a component that both sends and reads messages needs. */
export interface MessageSigning {
  readonly signer: MessageSigner;
  readonly verifier: MessageVerifier;
}

/** The signer and verifier for `secret`, or undefined when there is none (messages go unsigned). */
export function createMessageSigning(
  options: Omit<MessageSigningOptions, 'secret'> & { secret: SigningSecret | undefined },
): MessageSigning | undefined {
  if (options.secret === undefined) return undefined;
  const { secret, ...rest } = options;
  return {
    signer: new MessageSigner({ secret, now: rest.now }),
    verifier: new MessageVerifier({ secret, ...rest }),
  };
}
