import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { MessageExtraInfo, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { FleetClient } from './fleet-session-ids.js';
import type { Logger } from './logger.js';

export type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
export type {
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  JSONRPCResultResponse,
  MessageExtraInfo,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';

/**
 * What a session manager needs of an MCP server: `McpServer` and the low-level `Server` of the SDK both
 * fit, and so does anything else that can be connected to a transport and closed.
 */
export interface ConnectableServer {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

/** Makes the MCP server for one new session. Called once per `initialize`. */
export type ServerFactory = () => ConnectableServer | Promise<ConnectableServer>;

/** A live session as a session manager reports it. */
export interface SessionInfo {
  readonly sessionId: string;
  /** The `ClientId` the client sent, when the transport carries one. */
  readonly clientId: string | undefined;
  /** The protocol version negotiated by `initialize`, once known. */
  readonly protocolVersion: string | undefined;
  /** Unix milliseconds. */
  readonly createdAt: number;
  /** Unix milliseconds of the last message in either direction. */
  readonly lastActivityAt: number;
}

/**
 * The server side of an async transport: listens on its inbound channel, opens one session (and one MCP
 * server from the factory) per `initialize`, and routes later messages by session id.
 */
export interface SessionManager {
  /** Starts listening. Resolves once the inbound channel is being read. */
  start(): Promise<void>;
  /** Stops listening, lets in-flight requests finish up to a deadline, closes every session. */
  close(): Promise<void>;
  /** Ends one session as if the client had terminated it; later messages for it get an error. */
  terminateSession(sessionId: string): Promise<boolean>;
  readonly sessions: ReadonlyMap<string, SessionInfo>;
}

/**
 * What a backend transport may pass as the second argument of `onmessage`: besides the SDK's fields,
 * the id of the client request a server→client message belongs to, when the server named it. The
 * gateway uses it to put progress, logging and sampling on that request's stream.
 */
export interface BackendMessageExtra extends MessageExtraInfo {
  relatedRequestId?: RequestId;
}

/** What the gateway tells a backend about the session it wants a transport for. */
export interface BackendTransportContext {
  /**
   * The gateway's own id for this session; unique per gateway instance. Backends propose it to the server
   * as the session id (PROTOCOL.md §7) and may use it to route answers.
   */
  readonly sessionKey: string;
  /** Log lines about this session should go here (it carries the session key). */
  readonly logger?: Logger;
  /**
   * Set when another instance of the fleet opened the session (PROTOCOL.md §7b): the transport starts as
   * if `initialize` were done, under the session id the key gives, and sends no `initialize` of its own.
   * Only for backends with `fleet`.
   */
  readonly adopted?: {
    /** The protocol version the client names (its `MCP-Protocol-Version` header), if it does. */
    readonly protocolVersion?: string | undefined;
  };
}

/**
 * What a backend whose sessions any gateway instance can serve offers (PROTOCOL.md §7b): the session
 * keys it hands out, and which unknown keys are worth adopting. Optional: without it, an instance serves
 * only the sessions it opened.
 */
export interface BackendFleet {
  /**
   * A key for a new session: unguessable; with a fleet secret, tagged so only the fleet can make one.
   * `client` is what the session's `initialize` said of its client, for a backend whose servers may need
   * it on every request (stateless workers) to carry in the key, so that any instance can send it.
   */
  mintSessionKey(client?: FleetClient): string;
  /** Whether a key this instance does not hold may be a session another instance opened. */
  mayAdopt(key: string): boolean;
}

/**
 * What a backend transport of a fleet backend adds to the SDK's `Transport`. The gateway calls these
 * when they exist.
 */
export interface BackendSessionTransport extends Transport {
  /**
   * From now on `close()` lets go of the session on this instance only, and the server keeps it for the
   * other instances of the fleet: the gateway calls it when a session ends here for any reason but its
   * client's DELETE (idle here, the instance stopping). Without it, `close()` ends the session at the
   * server too.
   */
  keepServerSession?(): void;
  /** The client opened its GET stream here: the session's messages outside requests come here now. */
  listenHere?(): Promise<void>;
}

/**
 * An HTTP route a backend needs its host to serve, such as a webhook receiver: the host (the gateway)
 * hands every request for `path` and the paths below it to `handle`, unparsed (a signature may cover
 * the raw body), and outside its own Host, Origin and token checks (the server, not a browser, calls it).
 */
export interface BackendHttpRoute {
  readonly path: string;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}

/** Where the gateway's HTTP server listens, as the gateway tells a backend once it does. */
export interface BackendListeningAddress {
  /**
   * `http://host:port` of the listening server, as a process on the same machine reaches it: a server
   * bound to every interface (`0.0.0.0`, `::`) is named by its loopback address, and a port of 0 by the
   * port the system chose. A backend whose peers are elsewhere needs its public address configured.
   */
  readonly origin: string;
}

/**
 * A backend is what the gateway talks to: it opens one client `Transport` per gateway session and is
 * closed once. A backend may share one physical channel (one response queue, one poller) among all of
 * its sessions. `specificationVersion` lets the contract evolve without breaking outside backends.
 */
export interface Backend {
  readonly specificationVersion: 'v1';
  /** A short name for logs and metrics, e.g. `sqs`. */
  readonly name: string;
  createTransport(context: BackendTransportContext): Transport | Promise<Transport>;
  /** Resolves when the backend can reach its channel; rejects with the reason when it cannot. */
  checkReady?(): Promise<void>;
  /**
   * Counters the gateway exports as metrics, e.g. `{ routed, unroutable }`. `unroutable` counts messages
   * that matched no live session (late, duplicate, after close) and were dropped.
   */
  readonly stats?: Readonly<Record<string, number>>;
  /** Present when any instance of a gateway fleet can serve the sessions of any other (PROTOCOL.md §7b). */
  readonly fleet?: BackendFleet;
  /** A route the gateway must serve for this backend (webhook deliveries), if it receives over HTTP. */
  readonly httpRoute?: BackendHttpRoute;
  /**
   * Called once the gateway's HTTP server listens, before the gateway takes its first session: with
   * Streamable HTTP in front, always; in stdio mode, for a backend with an `httpRoute` (the gateway then
   * runs an HTTP server for that route alone). A backend that receives on `httpRoute` and was given no
   * public address of its own learns it here. A rejection stops the gateway from starting. Optional and
   * new in `v1` without a version change: a backend without it is never called.
   */
  listening?(address: BackendListeningAddress): void | Promise<void>;
  close(): Promise<void>;
}
