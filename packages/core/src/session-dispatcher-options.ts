import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from './clock.js';
import type { ServerFactory } from './contracts.js';
import type { DispatcherOptions } from './dispatch-contract.js';
import type { SessionLimits } from './session-lifecycle.js';

export interface SessionDispatcherOptions<A> extends DispatcherOptions<A>, SessionLimits {
  /** Makes the MCP server of each new session. */
  createServer: ServerFactory;
  /**
   * Reads where a session's client is answered from its `initialize` (and from a later request or
   * `notifications/asyncmcp/listening` naming another address).
   */
  addressOf: (initialize: JSONRPCRequest, attributes: Readonly<Record<string, string>>) => A | undefined;
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
  onsessioninitialized?: (sessionId: string) => void;
  onsessionclosed?: (sessionId: string) => void;
}
