import { randomUUID } from 'node:crypto';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { isInitializeRequest, isInitializeResult, isRequest } from './codec.js';
import {
  Attribute,
  buildClientAttributes,
  type MessageAttributes,
  validateCustomAttributes,
} from './envelope.js';
import { ConfigurationError } from './errors.js';
import { RequestMetaKey, readWorkerHint, type WorkerHint, withMeta } from './meta.js';
import { isValidSessionId } from './session-id.js';

export interface ClientSessionStateOptions {
  /** Sent as `ClientId` on every message. @default a random UUID */
  clientId?: string;
  /** Entries merged into `initialize`'s `params._meta`, e.g. `{ responseQueueUrl }`. */
  meta: Readonly<Record<string, string>>;
  /** Extra attributes on every message; checked against the attribute budget at construction. */
  customAttributes?: Readonly<Record<string, string>>;
  /** A session id to propose on `initialize` (the gateway proposes its own, PROTOCOL.md §7). */
  proposedSessionId?: string;
}

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
  }

  /** The message as it goes on the wire (with `_meta` added to `initialize`) and its attributes. */
  prepare(message: JSONRPCMessage): { message: JSONRPCMessage; attributes: MessageAttributes } {
    const initialize = isInitializeRequest(message);
    if (initialize) this.#rememberClient(message.params as Record<string, unknown> | undefined);
    // Every request names where to answer, not only `initialize`: a worker that does not hold the
    // session (a stateless one, or one restarted without it) can then still answer it.
    let outgoing = isRequest(message) ? withMeta(message, this.#meta) : message;
    if (!initialize && isRequest(outgoing) && this.worker?.stateless && this.#statelessMeta) {
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
   * Looks at a received message: adopts the session id from the initialize result. Returns false when the
   * message belongs to another session (a shared response channel) and must not be delivered.
   */
  accept(message: JSONRPCMessage, attributes: Readonly<Record<string, string>>): boolean {
    const sessionId = attributes[Attribute.SessionId];
    if (this.sessionId === undefined) {
      if (sessionId !== undefined && isInitializeResult(message) && isValidSessionId(sessionId)) {
        this.adopt(sessionId, message);
        return true;
      }
      // Before the answer, a proposed id already tells our messages from another session's.
      return this.#proposed === undefined || sessionId === undefined || sessionId === this.#proposed;
    }
    return sessionId === undefined || sessionId === this.sessionId;
  }

  /** Takes the session id and the worker's hint from the answer to our `initialize`. */
  adopt(sessionId: string, initializeResult: JSONRPCMessage): void {
    this.sessionId = sessionId;
    this.worker = readWorkerHint(initializeResult);
    const version = 'result' in initializeResult ? initializeResult.result.protocolVersion : undefined;
    if (this.#statelessMeta && typeof version === 'string') {
      this.#statelessMeta[RequestMetaKey.ProtocolVersion] = version;
    }
  }

  #rememberClient(params: Record<string, unknown> | undefined): void {
    this.#statelessMeta = {
      [RequestMetaKey.ProtocolVersion]: params?.protocolVersion,
      [RequestMetaKey.ClientCapabilities]: params?.capabilities ?? {},
      [RequestMetaKey.ClientInfo]: params?.clientInfo,
    };
  }
}
