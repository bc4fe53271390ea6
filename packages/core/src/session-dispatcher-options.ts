import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from './clock.js';
import type { ServerFactory } from './contracts.js';
import type { DedupeWindowOptions } from './dedupe-window.js';
import type { SendTarget } from './dispatch-contract.js';
import type { Logger } from './logger.js';
import type { SessionIdFormat } from './session-id.js';

export interface SessionDispatcherOptions<A> {
  createServer: ServerFactory;
  /**
   * Reads where a new session's client is answered from its `initialize` (e.g. `_meta.responseQueueUrl`).
   * Throws a `DestinationRefusedError` for an address the server will not send to: the message is then
   * rejected (`refused-destination`) and nothing is sent anywhere.
   */
  addressOf: (initialize: JSONRPCRequest, attributes: Readonly<Record<string, string>>) => A | undefined;
  /** What `addressOf` looks for, for the error when it is missing, e.g. `_meta.responseQueueUrl`. */
  addressDescription: string;
  /** Sends one message to a session's client. Throw a `MessageTooLargeError` for an oversize message. */
  send: (message: JSONRPCMessage, target: SendTarget<A>) => Promise<void>;
  /** @default 'hex' */
  sessionIdFormat?: SessionIdFormat;
  /** Most live sessions; `Infinity` lifts the limit. @default SESSION_DEFAULTS.maxSessions (1000) */
  maxSessions?: number;
  /**
   * Sessions with no traffic and no running request for this long are closed; `Infinity` never.
   * @default SESSION_DEFAULTS.sessionIdleTimeoutMs (1800000, 30 minutes)
   */
  sessionIdleTimeoutMs?: number;
  /**
   * Most requests one session may have running at once; a request beyond it is answered at once with a
   * JSON-RPC error (and its message is done with), so one session cannot take every slot of the worker.
   * @default SESSION_DEFAULTS.maxInFlightPerSession (32)
   */
  maxInFlightPerSession?: number;
  /**
   * How long a send to an address the session reached before, now missing, is tried again before the
   * session's client is taken as gone (the queue service lost the queue; its owner makes it again).
   * @default SESSION_DEFAULTS.missingAddressGraceMs (5000)
   */
  missingAddressGraceMs?: number;
  /** Time source of idle eviction and of the grace above; tests pass a `ManualClock`. @default systemClock */
  clock?: Clock;
  /** @default the versions the installed MCP SDK supports */
  supportedProtocolVersions?: readonly string[];
  dedupe?: DedupeWindowOptions;
  logger?: Logger;
  onsessioninitialized?: (sessionId: string) => void;
  onsessionclosed?: (sessionId: string) => void;
}
