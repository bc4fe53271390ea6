import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type SigningSecret, signingKey } from './signature.js';

/** Random bytes in a session key, and bytes of its tag: 128 bits each. */
const KEY_BYTES = 16;
const TAG_BYTES = 16;
const UNSIGNED_KEY = /^[0-9a-f]{32}$/;
const SIGNED_KEY = /^([0-9a-f]{32})([0-9a-f]{32})$/;

export interface FleetSessionIdsOptions {
  /**
   * The secret every instance of the fleet shares (the queues' signing secret). With it, keys carry a
   * tag only the fleet can make, and an instance adopts no other; without it, any key of the right form
   * is worth asking the servers about (one round trip, behind the gateway's bearer token).
   */
  secret?: SigningSecret | undefined;
}

/**
 * How the instances of a gateway fleet name sessions so that each can serve every one with no table they
 * share (PROTOCOL.md §7b). The HTTP session id (the key) is random, with a tag when there is a secret;
 * the session id on the wire (a queue's `SessionId`, a webhook server's `X-Session-ID`) and a webhook
 * session's route are one-way functions of it, so every instance computes the same ones from the
 * client's `Mcp-Session-Id`, and whoever reads the queue, the server or a webhook path cannot go back
 * from them to the HTTP id, nor from one of them to the other.
 */
export class FleetSessionIds {
  readonly #tagKey: Buffer | undefined;
  readonly #queueKey: Buffer;
  readonly #routeKey: Buffer;

  constructor(options: FleetSessionIdsOptions = {}) {
    const secret = options.secret === undefined ? undefined : signingKey(options.secret);
    this.#tagKey = secret === undefined ? undefined : derive(secret, 'asyncmcp/session-key-tag');
    // Without a secret the functions are still one-way, only not keyed.
    this.#queueKey = keyFor(secret, 'asyncmcp/queue-session');
    // A label of its own: knowing a session's route must not give its session id, nor the other way.
    this.#routeKey = keyFor(secret, 'asyncmcp/webhook-route');
  }

  /** Whether keys carry the fleet's tag. */
  get tagged(): boolean {
    return this.#tagKey !== undefined;
  }

  /** A new HTTP session id: 32 hex characters, or 64 with the fleet's tag. */
  mint(): string {
    const random = randomBytes(KEY_BYTES).toString('hex');
    return this.#tagKey === undefined ? random : `${random}${this.#tag(random)}`;
  }

  /** Whether another instance of this fleet may have minted `key`: its form, and its tag when keys carry one. */
  mayAdopt(key: string): boolean {
    if (this.#tagKey === undefined) return UNSIGNED_KEY.test(key);
    const parts = SIGNED_KEY.exec(key);
    if (parts === null) return false;
    const [, random, tag] = parts as unknown as [string, string, string];
    return timingSafeEqual(Buffer.from(tag, 'hex'), Buffer.from(this.#tag(random), 'hex'));
  }

  /**
   * The session id on the wire (queue or webhook server) for an HTTP session id: the same on every
   * instance, not reversible.
   */
  queueSessionIdOf(key: string): string {
    // Hex of the digest's first bytes: a string of its own, not a slice that keeps the whole digest's
    // hex alive for as long as the session lives.
    return createHmac('sha256', this.#queueKey).update(key).digest().subarray(0, KEY_BYTES).toString('hex');
  }

  /**
   * The secret path segment a webhook gateway receives a session's deliveries on (`<webhookPath>/<route>`),
   * for an HTTP session id: the same on every instance, not reversible, and unrelated to the session id
   * on the wire. 128 bits as 22 base64url characters, the form of the random routes of sessions that
   * belong to one instance.
   */
  routeOf(key: string): string {
    return createHmac('sha256', this.#routeKey)
      .update(key)
      .digest()
      .subarray(0, KEY_BYTES)
      .toString('base64url');
  }

  #tag(random: string): string {
    return createHmac('sha256', this.#tagKey as Buffer)
      .update(random)
      .digest()
      .subarray(0, TAG_BYTES)
      .toString('hex');
  }
}

function keyFor(secret: Buffer | undefined, label: string): Buffer {
  return secret === undefined ? Buffer.from(label) : derive(secret, label);
}

function derive(secret: Buffer, label: string): Buffer {
  return createHmac('sha256', secret).update(label).digest();
}
