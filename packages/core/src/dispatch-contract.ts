import type {
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCRequest,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from './clock.js';
import type { ServerFactory } from './contracts.js';
import type { DedupeWindowOptions } from './dedupe-window.js';
import type { Logger } from './logger.js';
import type { SessionIdFormat } from './session-id.js';

/*
 * What a dispatcher takes and hands back, shared by `SessionDispatcher` and `StatelessDispatcher` so a
 * transport drives either the same way.
 */

/** One message as it arrived on a transport's inbound channel. */
export interface InboundMessage {
  body: string | Uint8Array;
  /** Protocol attributes or headers, flattened to name → value (`SessionId`, `ClientId`, …). */
  attributes: Readonly<Record<string, string>>;
}

export type RejectReason =
  | 'parse'
  | 'validation'
  | 'protocol-version'
  | 'missing-session'
  | 'invalid-session'
  | 'unknown-session'
  | 'terminated-session'
  | 'missing-address'
  | 'refused-destination'
  | 'session-limit'
  /** The session already runs `maxInFlightPerSession` requests. */
  | 'session-busy'
  | 'server-failed'
  | 'closing';

/**
 * How an inbound message ended. `cancelled`: the client cancelled the request (`notifications/cancelled`);
 * MCP servers send no answer to a cancelled request, so it ends there, and its message is done with.
 */
export type Settlement = 'delivered' | 'answered' | 'duplicate' | 'session-closed' | 'failed' | 'cancelled';

export type DispatchResult<A> =
  | {
      status: 'accepted';
      sessionId: string;
      /** Whether this message opened the session. */
      created: boolean;
      address: A;
      /** Resolves when the message's effect is durable; only then may a queue message be deleted. */
      settled: Promise<Settlement>;
    }
  | {
      status: 'rejected';
      reason: RejectReason;
      /** The JSON-RPC error for the sender; `replied` says whether it was already sent to them. */
      error: JSONRPCErrorResponse;
      replied: boolean;
      sessionId: string | undefined;
    };

/** Where a session's message goes, and the client request it belongs to, when the server said. */
export interface SendTarget<A> {
  sessionId: string;
  address: A;
  relatedRequestId?: RequestId | undefined;
}

export interface DispatchOptions {
  /**
   * Answer a request for a session this dispatcher does not hold with `Session not found`, at the address
   * the request itself names. Off for a message the caller may hand to another reader of the queue.
   * @default false
   */
  answerUnknownSession?: boolean;
}

/** The message a session is sent before a stopping server ends it; undefined sends none. */
export type Farewell = (sessionId: string) => JSONRPCMessage | undefined;

export interface CloseOptions {
  timeoutMs?: number;
  farewell?: Farewell;
}

export interface DispatcherStats {
  accepted: number;
  rejected: number;
  duplicates: number;
  sessionsOpened: number;
  sessionsClosed: number;
  /** Sessions ended because their client's address (queue, topic) no longer exists. */
  clientsGone: number;
}

/** What every dispatcher is given: where its servers come from, and how it reads and reaches a client. */
export interface DispatcherOptions<A> {
  createServer: ServerFactory;
  /**
   * Reads where a client is answered from its message (e.g. `_meta.responseQueueUrl`). Throws a
   * `DestinationRefusedError` for an address the server will not send to: the message is then rejected
   * (`refused-destination`) and nothing is sent anywhere.
   */
  addressOf: (message: JSONRPCRequest, attributes: Readonly<Record<string, string>>) => A | undefined;
  /** What `addressOf` looks for, for the error when it is missing, e.g. `_meta.responseQueueUrl`. */
  addressDescription: string;
  /** Sends one message to a client. Throw a `MessageTooLargeError` for an oversize message. */
  send: (message: JSONRPCMessage, target: SendTarget<A>) => Promise<void>;
  /** @default 'hex' */
  sessionIdFormat?: SessionIdFormat;
  /** @default the versions the installed MCP SDK supports */
  supportedProtocolVersions?: readonly string[];
  dedupe?: DedupeWindowOptions;
  /** Time source of the dispatcher's timeouts; tests pass a `ManualClock`. @default systemClock */
  clock?: Clock;
  logger?: Logger;
}
