import { randomUUID } from 'node:crypto';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { isAnswer, isInitializeRequest, isInitializeResult, isRequest } from './codec.js';
import {
  Attribute,
  buildClientAttributes,
  type MessageAttributes,
  validateCustomAttributes,
} from './envelope.js';
import { ConfigurationError } from './errors.js';
import type { FleetClient } from './fleet-session-ids.js';
import { RequestMetaKey, readWorkerHint, type WorkerHint, withMeta } from './meta.js';
import { isValidSessionId } from './session-id.js';
import { WireIds } from './wire-ids.js';

export interface ClientSessionStateOptions {
  /** Sent as `ClientId` on every message. @default a random UUID */
  clientId?: string;
  /** Entries merged into `initialize`'s `params._meta`, e.g. `{ responseQueueUrl }`. */
  meta: Readonly<Record<string, string>>;
  /** Extra attributes on every message; checked against the attribute budget at construction. */
  customAttributes?: Readonly<Record<string, string>>;
  /** A session id to propose on `initialize` (the gateway proposes its own, PROTOCOL.md §7). */
  proposedSessionId?: string;
  /**
   * Send each request under an unguessable id (and progress token) of its own and take only answers
   * that carry one (PROTOCOL.md §8, "Ids on the wire"). Off only for a caller that rewrites ids itself,
   * such as a gateway backend's `RequestCorrelator`. @default true
   */
  wireIds?: boolean;
}

/** What `receive` made of a message from the server. */
export type ClientReceived =
  | { readonly status: 'deliver'; readonly message: JSONRPCMessage }
  /** The message names another session (a shared response channel, or a leftover). */
  | { readonly status: 'other-session' }
  /** An answer for no request of ours (forged, late or duplicate), or progress for no token of ours. */
  | { readonly status: 'unmatched' };

/**
 * The client half of the handshake every async transport performs (PROTOCOL.md §1): name where to
 * answer in `initialize`, adopt the session id from the initialize result, then send the id and the
 * negotiated protocol version on everything after. Transports own the I/O; this owns the state.
 */
export class ClientSessionState {
  readonly clientId: string;
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  readonly #meta: Readonly<Record<string, string>>;
  readonly #custom: Readonly<Record<string, string>> | undefined;
  readonly #proposed: string | undefined;
  /** What the worker that answered `initialize` offered (an inbox, liveness, statelessness). */
  worker: WorkerHint | undefined;
  /** What a stateless worker needs on each request, read from our `initialize`. */
  #statelessMeta: Record<string, unknown> | undefined;
  /** Taken over from another instance of a fleet: its worker is known only once one answers. */
  #adopted = false;
  readonly #wire: WireIds | undefined;
  /** Messages dropped by `receive`/`restore` because they matched nothing this client sent. */
  readonly stats = { unmatched: 0 };

  constructor(options: ClientSessionStateOptions) {
    validateCustomAttributes(options.customAttributes);
    if (options.proposedSessionId !== undefined && !isValidSessionId(options.proposedSessionId)) {
      throw new ConfigurationError(
        `Proposed session id "${options.proposedSessionId}" is not a valid session id`,
      );
    }
    this.clientId = options.clientId ?? randomUUID();
    this.#meta = options.meta;
    this.#custom = options.customAttributes;
    this.#proposed = options.proposedSessionId;
    this.#wire = options.wireIds === false ? undefined : new WireIds();
  }

  /** The message as it goes on the wire (with `_meta` added to `initialize`) and its attributes. */
  prepare(message: JSONRPCMessage): { message: JSONRPCMessage; attributes: MessageAttributes } {
    const initialize = isInitializeRequest(message);
    if (initialize) this.#rememberClient(message.params as Record<string, unknown> | undefined);
    const minted = this.#wire ? this.#wire.outbound(message) : message;
    // Every request names where to answer, not only `initialize`: a worker that does not hold the
    // session (a stateless one, or one restarted without it) can then still answer it.
    let outgoing = isRequest(minted) ? withMeta(minted, this.#meta) : minted;
    if (!initialize && isRequest(outgoing) && this.#statelessMeta && this.#mayBeStateless()) {
      outgoing = withMeta(outgoing, this.#statelessMeta);
    }
    // Until the server answers, a proposed id is the best guess: a server that adopts proposals (ours
    // and Python's do) routes early messages, such as a ping sent during initialization, with it.
    const sessionId = this.sessionId ?? this.#proposed;
    const attributes = buildClientAttributes({
      message: outgoing,
      clientId: this.clientId,
      sessionId,
      protocolVersion: initialize ? undefined : this.protocolVersion,
      custom: this.#custom,
    });
    return { message: outgoing, attributes };
  }

  /**
   * Looks at a received message as it came (ids as on the wire): false when it belongs to another
   * session and must not be delivered. Once the session id is known, an answer must carry it.
   */
  accept(message: JSONRPCMessage, attributes: Readonly<Record<string, string>>): boolean {
    const sessionId = attributes[Attribute.SessionId];
    if (this.sessionId === undefined) {
      // The answer to our initialize names the session; its id (minted here) is what makes it ours.
      if (sessionId !== undefined && isInitializeResult(message) && isValidSessionId(sessionId)) return true;
      // Before the answer, a proposed id already tells our messages from another session's.
      return this.#proposed === undefined || sessionId === undefined || sessionId === this.#proposed;
    }
    if (isAnswer(message)) return sessionId === this.sessionId;
    return sessionId === undefined || sessionId === this.sessionId;
  }

  /**
   * A message of this session as the client must see it: an answer gets the client's own id back and is
   * taken only when its id was minted here; the answer to our `initialize` gives us the session id.
   * Undefined (counted in `stats.unmatched`) for what matched nothing we sent: drop it.
   */
  restore(message: JSONRPCMessage, attributes: Readonly<Record<string, string>>): JSONRPCMessage | undefined {
    let restored = message;
    if (this.#wire) {
      const inbound = this.#wire.inbound(message);
      if (inbound.status === 'unmatched') {
        this.stats.unmatched++;
        return undefined;
      }
      restored = inbound.message;
    }
    const sessionId = attributes[Attribute.SessionId];
    if (
      this.sessionId === undefined &&
      sessionId !== undefined &&
      isInitializeResult(restored) &&
      isValidSessionId(sessionId)
    ) {
      this.adopt(sessionId, restored);
    }
    return restored;
  }

  /** `accept`, then `restore`: what to do with one message from the server. */
  receive(message: JSONRPCMessage, attributes: Readonly<Record<string, string>>): ClientReceived {
    if (!this.accept(message, attributes)) return { status: 'other-session' };
    const restored = this.restore(message, attributes);
    return restored === undefined ? { status: 'unmatched' } : { status: 'deliver', message: restored };
  }

  /** The client's own id of a request still waiting, by the id it went out under. */
  clientIdOf(wireId: string | number | undefined): string | number | undefined {
    if (!this.#wire) return wireId;
    return this.#wire.clientIdOf(wireId);
  }

  /** Forgets a request whose send failed, so nothing can answer it later. */
  discard(wireId: string | number): void {
    this.#wire?.discard(wireId);
  }

  /** Takes the session id and the worker's hint from the answer to our `initialize`. */
  adopt(sessionId: string, initializeResult: JSONRPCMessage): void {
    // A copy: the id as read is often a slice of the whole message it came in, kept alive by it.
    this.sessionId = ownString(sessionId);
    this.worker = readWorkerHint(initializeResult);
    if (!this.worker?.stateless) {
      // Only a stateless worker needs the client's initialize repeated on each request.
      this.#statelessMeta = undefined;
      return;
    }
    const version = 'result' in initializeResult ? initializeResult.result.protocolVersion : undefined;
    if (this.#statelessMeta && typeof version === 'string') {
      this.#statelessMeta[RequestMetaKey.ProtocolVersion] = version;
    }
  }

  /**
   * Starts as a session another instance of a fleet opened (PROTOCOL.md §7b): no `initialize` here, the
   * session id and protocol version as given. With the client that `initialize` named (carried in the
   * fleet's session key), every request also carries what a stateless worker needs, until a worker that
   * is not stateless answers: the worker that holds the session is not known yet.
   */
  adoptFromFleet(
    sessionId: string,
    options: { protocolVersion: string | undefined; client?: FleetClient | undefined },
  ): void {
    this.sessionId = sessionId;
    this.protocolVersion = options.protocolVersion;
    this.#adopted = true;
    if (options.client === undefined || options.protocolVersion === undefined) return;
    this.#statelessMeta = {
      [RequestMetaKey.ProtocolVersion]: options.protocolVersion,
      [RequestMetaKey.ClientCapabilities]: options.client.capabilities,
      [RequestMetaKey.ClientInfo]: options.client.clientInfo,
    };
  }

  #mayBeStateless(): boolean {
    return this.worker === undefined ? this.#adopted : this.worker.stateless === true;
  }

  #rememberClient(params: Record<string, unknown> | undefined): void {
    this.#statelessMeta = {
      [RequestMetaKey.ProtocolVersion]: params?.protocolVersion,
      [RequestMetaKey.ClientCapabilities]: params?.capabilities ?? {},
      [RequestMetaKey.ClientInfo]: params?.clientInfo,
    };
  }
}

/** The same characters in a string of their own (not a slice or rope over a larger one). */
function ownString(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
