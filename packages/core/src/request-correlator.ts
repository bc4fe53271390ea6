import { randomBytes } from 'node:crypto';
import type {
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  JSONRPCResultResponse,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { requestIdKey } from './request-ids.js';
import { unguessable } from './wire-ids.js';

export interface RequestCorrelatorOptions {
  /** Prefix of every id this correlator mints; unique per gateway instance. @default 8 random hex characters */
  idPrefix?: string;
}

interface Pending {
  sessionKey: string;
  originalId: RequestId;
  method: string;
  /** The client's progress token, and the one that went on the wire instead. */
  progressToken?: string | number;
  wireToken?: string;
}

export interface CorrelatedAnswer {
  sessionKey: string;
  /** The answer with the id its session's client used. */
  message: JSONRPCResultResponse | JSONRPCErrorResponse;
  method: string;
}

/**
 * The id rewriting of PROTOCOL.md §7. Many gateway sessions share one response channel and their
 * clients' request ids collide (every SDK client starts at 0), so each forwarded request gets an id unique
 * to this gateway; the answer is routed by that id and handed back with the original restored. The id
 * is unguessable (the instance prefix, then 128 random bits: PROTOCOL.md §8, "Ids on the wire"), so only
 * whoever saw the request can answer it. Server→client requests keep the server's ids and are not seen here.
 */
export class RequestCorrelator {
  readonly #prefix: string;
  readonly #pending = new Map<string, Pending>();
  /** Wire progress token → the gateway id of its request. */
  readonly #byWireToken = new Map<string, string>();
  /**
   * sessionKey → (original id key → gateway id), to rewrite `notifications/cancelled`; only sessions
   * with a request waiting are here.
   */
  readonly #bySession = new Map<string, Map<string, string>>();

  constructor({ idPrefix = randomBytes(4).toString('hex') }: RequestCorrelatorOptions = {}) {
    this.#prefix = idPrefix;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** How many sessions have a request waiting (only those are kept track of). */
  get waitingSessions(): number {
    return this.#bySession.size;
  }

  /** Rewrites a client message on its way to the server. Requests get a new id; others pass unchanged. */
  outbound<M extends JSONRPCMessage>(sessionKey: string, message: M): M {
    if ('method' in message && 'id' in message) {
      const request = message as JSONRPCRequest;
      const gatewayId = `${this.#prefix}-${unguessable()}`;
      const pending: Pending = { sessionKey, originalId: request.id, method: request.method };
      let rewritten: JSONRPCRequest = { ...request, id: gatewayId };
      // The progress token goes out unguessable too, so progress cannot be forged onto a call either.
      const params = request.params as Record<string, unknown> | undefined;
      const meta = params?._meta as Record<string, unknown> | undefined;
      const token = meta?.progressToken;
      if (typeof token === 'string' || typeof token === 'number') {
        pending.progressToken = token;
        pending.wireToken = `${this.#prefix}-${unguessable()}`;
        this.#byWireToken.set(pending.wireToken, gatewayId);
        rewritten = {
          ...rewritten,
          params: { ...params, _meta: { ...meta, progressToken: pending.wireToken } },
        };
      }
      this.#pending.set(gatewayId, pending);
      let ids = this.#bySession.get(sessionKey);
      if (!ids) {
        ids = new Map();
        this.#bySession.set(sessionKey, ids);
      }
      ids.set(requestIdKey(request.id), gatewayId);
      return rewritten as M;
    }
    if ('method' in message && message.method === 'notifications/cancelled') {
      return this.#rewriteCancellation(sessionKey, message as JSONRPCNotification) as M;
    }
    return message;
  }

  /**
   * Matches an answer from the server to the session that asked. Returns undefined when the id is not one
   * this correlator minted, or its session was forgotten: the caller drops it with a log line.
   */
  inbound(message: JSONRPCResultResponse | JSONRPCErrorResponse): CorrelatedAnswer | undefined {
    if (message.id === undefined || typeof message.id !== 'string') return undefined;
    const pending = this.#pending.get(message.id);
    if (!pending) return undefined;
    this.#forget(message.id, pending);
    return {
      sessionKey: pending.sessionKey,
      method: pending.method,
      message: { ...message, id: pending.originalId },
    };
  }

  /** The session and original id of a forwarded request still waiting for its answer. */
  peek(gatewayId: RequestId | string | undefined): { sessionKey: string; originalId: RequestId } | undefined {
    if (typeof gatewayId !== 'string') return undefined;
    const pending = this.#pending.get(gatewayId);
    return pending ? { sessionKey: pending.sessionKey, originalId: pending.originalId } : undefined;
  }

  /** Forgets one forwarded request (it could not be sent), so no late answer is routed to it. */
  discard(gatewayId: RequestId): boolean {
    if (typeof gatewayId !== 'string') return false;
    const pending = this.#pending.get(gatewayId);
    if (!pending) return false;
    this.#forget(gatewayId, pending);
    return true;
  }

  /** Whether a response id was minted here, whatever its state. */
  owns(id: RequestId | undefined): boolean {
    return typeof id === 'string' && id.startsWith(`${this.#prefix}-`);
  }

  /** Forgets every pending request of a session and returns their original ids and methods. */
  forgetSession(sessionKey: string): Array<{ id: RequestId; method: string }> {
    const ids = this.#bySession.get(sessionKey);
    this.#bySession.delete(sessionKey);
    if (!ids) return [];
    const forgotten: Array<{ id: RequestId; method: string }> = [];
    for (const gatewayId of ids.values()) {
      const pending = this.#pending.get(gatewayId);
      if (!pending) continue;
      this.#pending.delete(gatewayId);
      if (pending.wireToken !== undefined) this.#byWireToken.delete(pending.wireToken);
      forgotten.push({ id: pending.originalId, method: pending.method });
    }
    return forgotten;
  }

  /**
   * A `notifications/progress` from a server, with its session's own progress token put back; undefined
   * when its token is none this correlator minted for a waiting request of `sessionKey` (drop it).
   */
  restoreProgress(sessionKey: string, notification: JSONRPCNotification): JSONRPCNotification | undefined {
    const params = notification.params as Record<string, unknown> | undefined;
    const token = params?.progressToken;
    const gatewayId = typeof token === 'string' ? this.#byWireToken.get(token) : undefined;
    const pending = gatewayId === undefined ? undefined : this.#pending.get(gatewayId);
    if (pending?.sessionKey !== sessionKey || pending.progressToken === undefined) return undefined;
    return { ...notification, params: { ...params, progressToken: pending.progressToken } };
  }

  #forget(gatewayId: string, pending: Pending): void {
    this.#pending.delete(gatewayId);
    const ids = this.#bySession.get(pending.sessionKey);
    ids?.delete(requestIdKey(pending.originalId));
    // A session with nothing waiting keeps no map here: a gateway holds many idle sessions.
    if (ids?.size === 0) this.#bySession.delete(pending.sessionKey);
    if (pending.wireToken !== undefined) this.#byWireToken.delete(pending.wireToken);
  }

  #rewriteCancellation(sessionKey: string, notification: JSONRPCNotification): JSONRPCNotification {
    const params = notification.params as Record<string, unknown> | undefined;
    const requestId = params?.requestId;
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return notification;
    const gatewayId = this.#bySession.get(sessionKey)?.get(requestIdKey(requestId));
    if (gatewayId === undefined) return notification;
    return { ...notification, params: { ...params, requestId: gatewayId } };
  }
}
