import { randomBytes } from 'node:crypto';
import type {
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { isAnswer, isRequest } from './codec.js';
import { requestIdKey } from './request-ids.js';

type ProgressToken = string | number;

interface Minted {
  /** The id the client gave the request. */
  readonly id: RequestId;
  /** The progress token the client gave it, and the one that went on the wire instead. */
  readonly progressToken?: ProgressToken;
  readonly wireToken?: string;
}

/** What `inbound` did with a message from the server. */
export type WireInbound =
  | { readonly status: 'deliver'; readonly message: JSONRPCMessage }
  /** An answer for no id minted here (forged, late or duplicate), or progress for no token minted here. */
  | { readonly status: 'unmatched' };

/**
 * Unguessable ids on the wire (PROTOCOL.md §8, "Ids on the wire"). A client's own request ids are 0, 1,
 * 2 …, so anyone who can write to its response queue could answer its calls by guessing them. Each request
 * therefore goes out with a random id (and a random progress token, when it has one), and only an answer
 * carrying an id minted here is taken — with the client's own id put back. Servers echo ids and tokens
 * without reading them, so peers of any kind keep working. A `notifications/cancelled` names the wire id
 * of the request it cancels.
 */
export class WireIds {
  readonly #minted = new Map<string, Minted>();
  /** The client's id (typed key) → the wire id it went out under, for cancellations. */
  readonly #byClientId = new Map<string, string>();
  /** The wire progress token → the wire id of its request. */
  readonly #byWireToken = new Map<string, string>();

  /** Requests sent and not yet answered. */
  get pending(): number {
    return this.#minted.size;
  }

  /** A client message as it goes on the wire: requests get a fresh id, cancellations name it. */
  outbound<M extends JSONRPCMessage>(message: M): M {
    if (isRequest(message)) return this.#mint(message) as M;
    if ('method' in message && message.method === 'notifications/cancelled') {
      return this.#cancel(message as JSONRPCNotification) as M;
    }
    return message;
  }

  /**
   * A server message as the client must see it: an answer gets the client's id back (and is taken only
   * if its id was minted here), progress gets the client's token back; anything else passes unchanged.
   */
  inbound(message: JSONRPCMessage): WireInbound {
    if (isAnswer(message)) {
      const wireId = message.id;
      const minted = typeof wireId === 'string' ? this.#minted.get(wireId) : undefined;
      if (minted === undefined || typeof wireId !== 'string') return { status: 'unmatched' };
      this.#forget(wireId, minted);
      return { status: 'deliver', message: { ...message, id: minted.id } };
    }
    if ('method' in message && message.method === 'notifications/progress') {
      return this.#progress(message as JSONRPCNotification);
    }
    return { status: 'deliver', message };
  }

  /** The client's id of a request still waiting, by its wire id. */
  clientIdOf(wireId: RequestId | string | undefined): RequestId | undefined {
    return typeof wireId === 'string' ? this.#minted.get(wireId)?.id : undefined;
  }

  /** Forgets a request that never left (its send failed), so nothing can answer it later. */
  discard(wireId: RequestId): void {
    if (typeof wireId !== 'string') return;
    const minted = this.#minted.get(wireId);
    if (minted) this.#forget(wireId, minted);
  }

  #mint(request: JSONRPCRequest): JSONRPCRequest {
    const wireId = unguessable();
    const params = request.params as Record<string, unknown> | undefined;
    const meta = params?._meta as Record<string, unknown> | undefined;
    const token = meta?.progressToken;
    let outgoing: JSONRPCRequest = { ...request, id: wireId };
    let minted: Minted = { id: request.id };
    if (typeof token === 'string' || typeof token === 'number') {
      const wireToken = unguessable();
      minted = { id: request.id, progressToken: token, wireToken };
      this.#byWireToken.set(wireToken, wireId);
      outgoing = { ...outgoing, params: { ...params, _meta: { ...meta, progressToken: wireToken } } };
    }
    this.#minted.set(wireId, minted);
    this.#byClientId.set(requestIdKey(request.id), wireId);
    return outgoing;
  }

  #cancel(notification: JSONRPCNotification): JSONRPCNotification {
    const params = notification.params as Record<string, unknown> | undefined;
    const requestId = params?.requestId;
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return notification;
    const wireId = this.#byClientId.get(requestIdKey(requestId));
    if (wireId === undefined) return notification;
    // A cancelled request gets no answer (MCP): nothing is left to wait for.
    const minted = this.#minted.get(wireId);
    if (minted) this.#forget(wireId, minted);
    return { ...notification, params: { ...params, requestId: wireId } };
  }

  #progress(notification: JSONRPCNotification): WireInbound {
    const params = notification.params as Record<string, unknown> | undefined;
    const token = params?.progressToken;
    const wireId = typeof token === 'string' ? this.#byWireToken.get(token) : undefined;
    const minted = wireId === undefined ? undefined : this.#minted.get(wireId);
    if (minted?.progressToken === undefined) return { status: 'unmatched' };
    return {
      status: 'deliver',
      message: { ...notification, params: { ...params, progressToken: minted.progressToken } },
    };
  }

  #forget(wireId: string, minted: Minted): void {
    this.#minted.delete(wireId);
    if (this.#byClientId.get(requestIdKey(minted.id)) === wireId)
      this.#byClientId.delete(requestIdKey(minted.id));
    if (minted.wireToken !== undefined) this.#byWireToken.delete(minted.wireToken);
  }
}

/** 128 random bits, as text: no one who has not seen it can name it. */
export function unguessable(): string {
  return randomBytes(16).toString('base64url');
}
