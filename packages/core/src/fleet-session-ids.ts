import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type ClientCapabilities,
  ClientCapabilitiesSchema,
  type Implementation,
  ImplementationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { type SigningSecret, signingKey } from './signature.js';

/** Random bytes in a session key, and bytes of its tag: 128 bits each. */
const KEY_BYTES = 16;
const TAG_BYTES = 16;
/**
 * Most characters of the client part of a key: what most clients send fits, and a key stays small
 * beside everything else an idle session holds. A client whose part would be longer gets a key without.
 */
export const MAX_FLEET_CLIENT_PART = 384;
const UNSIGNED_KEY = /^[0-9a-f]{32}$/;
const SIGNED_KEY = /^([0-9a-f]{32})([0-9a-f]{32})$/;
const KEY_WITH_CLIENT = new RegExp(
  `^([0-9a-f]{32})\\.([A-Za-z0-9_-]{1,${MAX_FLEET_CLIENT_PART}})(?:\\.([0-9a-f]{32}))?$`,
);

/**
 * What a session's client said of itself in `initialize`, besides the protocol version: what a stateless
 * worker needs on every request (MCP 2026-07-28 `_meta`), so an instance that did not see the
 * `initialize` can still send it.
 */
export interface FleetClient {
  capabilities: ClientCapabilities;
  clientInfo: Implementation;
}

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

  /**
   * A new HTTP session id: 32 hex characters, or 64 with the fleet's tag. With `client`, the random
   * part is followed by `.` and the client's part (base64url JSON), and the tag, which then covers both,
   * by another `.`; a client part longer than `MAX_FLEET_CLIENT_PART` is left out.
   */
  mint(client?: FleetClient): string {
    const random = randomBytes(KEY_BYTES).toString('hex');
    const part = client === undefined ? undefined : clientPartOf(client);
    if (part === undefined) return this.#tagKey === undefined ? random : `${random}${this.#tag(random)}`;
    const body = `${random}.${part}`;
    return this.#tagKey === undefined ? body : `${body}.${this.#tag(body)}`;
  }

  /** Whether another instance of this fleet may have minted `key`: its form, and its tag when keys carry one. */
  mayAdopt(key: string): boolean {
    const withClient = KEY_WITH_CLIENT.exec(key);
    if (withClient !== null) {
      const [, random, part, tag] = withClient as unknown as [string, string, string, string | undefined];
      if (this.#tagKey === undefined) return tag === undefined;
      return tag !== undefined && this.#tagMatches(`${random}.${part}`, tag);
    }
    if (this.#tagKey === undefined) return UNSIGNED_KEY.test(key);
    const parts = SIGNED_KEY.exec(key);
    if (parts === null) return false;
    const [, random, tag] = parts as unknown as [string, string, string];
    return this.#tagMatches(random, tag);
  }

  /**
   * The client a key names, for a key this fleet may have minted (`mayAdopt`); undefined when it names
   * none, or one that is not a client's capabilities and info.
   */
  clientOf(key: string): FleetClient | undefined {
    const part = KEY_WITH_CLIENT.exec(key)?.[2];
    if (part === undefined || !this.mayAdopt(key)) return undefined;
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!Array.isArray(decoded) || decoded.length !== 2) return undefined;
    const capabilities = ClientCapabilitiesSchema.safeParse(decoded[0]);
    const clientInfo = ImplementationSchema.safeParse(decoded[1]);
    if (!capabilities.success || !clientInfo.success) return undefined;
    // As the client sent them, not the parsed copies: a schema may strip what a newer client added.
    return { capabilities: decoded[0] as ClientCapabilities, clientInfo: decoded[1] as Implementation };
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

  #tagMatches(body: string, tag: string): boolean {
    return timingSafeEqual(Buffer.from(tag, 'hex'), Buffer.from(this.#tag(body), 'hex'));
  }

  #tag(body: string): string {
    return createHmac('sha256', this.#tagKey as Buffer)
      .update(body)
      .digest()
      .subarray(0, TAG_BYTES)
      .toString('hex');
  }
}

function clientPartOf(client: FleetClient): string | undefined {
  const part = Buffer.from(JSON.stringify([client.capabilities, client.clientInfo]), 'utf8').toString(
    'base64url',
  );
  return part.length <= MAX_FLEET_CLIENT_PART ? part : undefined;
}

function keyFor(secret: Buffer | undefined, label: string): Buffer {
  return secret === undefined ? Buffer.from(label) : derive(secret, label);
}

function derive(secret: Buffer, label: string): Buffer {
  return createHmac('sha256', secret).update(label).digest();
}
