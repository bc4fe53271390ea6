import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import {
  type Backend,
  buildServerAttributes,
  ClientSessionState,
  decodeMessage,
  describeError,
  encodeMessage,
  type JSONRPCMessage,
  type Logger,
  type MessageAttributes,
  readMeta,
  type ServerFactory,
  SessionDispatcher,
  type SessionInfo,
  type SessionManager,
  silentLogger,
  type Transport,
  TransportStateError,
} from '@asyncmcp/core';

/**
 * MCP over Node's `BroadcastChannel`: each channel name plays the part of a queue. The server reads one
 * request channel; each client reads its own reply channel, named in `initialize` `_meta`. A channel
 * reaches every thread of one process only, so this is a teaching backend; a real one swaps the channel
 * calls for its broker's and keeps everything else.
 */

/** The `_meta` key under which a client names its reply channel. */
export const REPLY_CHANNEL_META_KEY = 'replyChannel';

/** What crosses a channel: the encoded JSON-RPC text and its attributes, exactly as on a queue. */
export interface WireMessage {
  body: string;
  attributes: MessageAttributes;
}

/** Encodes a message and its attributes for the channel. */
function toWire(message: JSONRPCMessage, attributes: MessageAttributes): WireMessage {
  return { body: encodeMessage(message), attributes };
}

/** Anything can be posted on a channel, so check the shape before trusting it. */
function readWire(data: unknown): WireMessage | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { body, attributes } = data as { body?: unknown; attributes?: unknown };
  if (typeof body !== 'string' || typeof attributes !== 'object' || attributes === null) return undefined;
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) if (typeof value === 'string') flat[name] = value;
  return { body, attributes: flat };
}

/** A channel used only to post: unref'd, since an idle channel would otherwise keep the process alive. */
function openOutbox(name: string): BroadcastChannel {
  const channel = new BroadcastChannel(name);
  channel.unref();
  return channel;
}

export interface BroadcastChannelClientTransportOptions {
  /** The channel the server's session manager listens on. */
  serverChannel: string;
  /** This client's reply channel. @default `asyncmcp-reply-<random UUID>` */
  replyChannel?: string;
  /** A session id to propose on `initialize`; a backend passes the gateway's session key. */
  proposedSessionId?: string;
}

export class BroadcastChannelClientTransport implements Transport {
  readonly #state: ClientSessionState;
  readonly #replyChannel: string;
  #inbox: BroadcastChannel | undefined;
  #outbox: BroadcastChannel | undefined;
  #closed = false;
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  constructor(readonly options: BroadcastChannelClientTransportOptions) {
    this.#replyChannel = options.replyChannel ?? `asyncmcp-reply-${randomUUID()}`;
    // The handshake (reply address in `_meta`, session id adoption, attributes) is core's, not ours.
    this.#state = new ClientSessionState({
      meta: { [REPLY_CHANNEL_META_KEY]: this.#replyChannel },
      proposedSessionId: options.proposedSessionId,
    });
  }

  /** Undefined until the initialize result arrives, as the SDK expects. */
  get sessionId(): string | undefined {
    return this.#state.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.#state.protocolVersion = version;
  }

  async start(): Promise<void> {
    if (this.#closed) throw new TransportStateError('closed');
    if (this.#inbox) return;
    // The inbox stays ref'd: while the client is open it waits for answers. close() releases it.
    this.#inbox = new BroadcastChannel(this.#replyChannel);
    this.#inbox.onmessage = (event) => this.#receive(event.data);
    this.#inbox.onmessageerror = () => this.onerror?.(new Error('A reply could not be deserialized'));
    this.#outbox = openOutbox(this.options.serverChannel);
  }

  // Bad input is out-of-band: report it on onerror, never throw from a channel callback.
  #receive(data: unknown): void {
    const wire = readWire(data);
    const decoded = wire ? decodeMessage(wire.body) : undefined;
    if (!wire || !decoded) this.onerror?.(new Error('A reply is not { body, attributes }'));
    else if (!decoded.ok) this.onerror?.(new Error(decoded.error.error.message));
    else {
      // Another session's message, or an answer to no request of ours (forged, late), is dropped.
      const received = this.#state.receive(decoded.message, wire.attributes);
      if (received.status === 'deliver') this.onmessage?.(received.message);
    }
  }

  // A send that cannot happen throws, so the SDK rejects the caller's request at once.
  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new TransportStateError('closed');
    if (!this.#outbox) throw new TransportStateError('not-started');
    const prepared = this.#state.prepare(message);
    this.#outbox.postMessage(toWire(prepared.message, prepared.attributes));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbox?.close();
    this.#outbox?.close();
    this.onclose?.();
  }
}

export interface BroadcastChannelSessionManagerOptions {
  /** The request channel every client sends to. */
  channel: string;
  createServer: ServerFactory;
  /** @default silent */
  logger?: Logger;
}

export class BroadcastChannelSessionManager implements SessionManager {
  readonly #dispatcher: SessionDispatcher<string>;
  readonly #outboxes = new Map<string, BroadcastChannel>();
  readonly #logger: Logger;
  #inbox: BroadcastChannel | undefined;

  constructor(readonly options: BroadcastChannelSessionManagerOptions) {
    this.#logger = options.logger ?? silentLogger;
    // The dispatcher routes, opens sessions, skips redeliveries and sends the errors of docs/protocol.md §5;
    // this class adds only the I/O: reading the request channel and posting to reply channels.
    this.#dispatcher = new SessionDispatcher<string>({
      createServer: options.createServer,
      addressOf: (initialize) => readMeta(initialize, REPLY_CHANNEL_META_KEY),
      addressDescription: `_meta.${REPLY_CHANNEL_META_KEY}`,
      send: async (message, { sessionId, address }) => {
        this.#outbox(address).postMessage(toWire(message, buildServerAttributes({ message, sessionId })));
      },
      // Release a session's reply channel when it ends; a late error for it reopens one until close().
      onsessionclosed: (sessionId) => this.#release(this.#dispatcher.addressOf(sessionId)),
      logger: this.#logger,
    });
  }

  get sessions(): ReadonlyMap<string, SessionInfo> {
    return this.#dispatcher.sessions;
  }

  async start(): Promise<void> {
    if (this.#inbox) return;
    // Ref'd on purpose: a running server keeps its process alive until close().
    this.#inbox = new BroadcastChannel(this.options.channel);
    this.#inbox.onmessage = (event) => {
      const wire = readWire(event.data);
      if (!wire) return this.#logger.warn({ channel: this.options.channel }, 'dropped a non-wire message');
      // A channel has no acknowledgement, so `settled` needs no action; a queue would delete here.
      this.#dispatcher.dispatch(wire).catch((cause) => {
        this.#logger.error({ err: describeError(cause) }, 'dispatch failed');
      });
    };
  }

  terminateSession(sessionId: string): Promise<boolean> {
    return this.#dispatcher.terminate(sessionId);
  }

  async close(): Promise<void> {
    this.#inbox?.close();
    this.#inbox = undefined;
    // Running requests may still answer, so the reply channels close only after the dispatcher.
    await this.#dispatcher.close();
    for (const outbox of this.#outboxes.values()) outbox.close();
    this.#outboxes.clear();
  }

  // One channel per reply address keeps a session's messages in order (progress before the answer).
  #outbox(name: string): BroadcastChannel {
    let outbox = this.#outboxes.get(name);
    if (!outbox) {
      outbox = openOutbox(name);
      this.#outboxes.set(name, outbox);
    }
    return outbox;
  }

  #release(name: string | undefined): void {
    if (name === undefined) return;
    this.#outboxes.get(name)?.close();
    this.#outboxes.delete(name);
  }
}

/** A gateway backend: one client transport, with its own reply channel, per gateway session. */
export function broadcastChannelBackend(options: { serverChannel: string }): Backend {
  return {
    specificationVersion: 'v1',
    name: 'broadcast-channel',
    // Proposing the gateway's key as session id (docs/protocol.md §7) lets the server answer under it.
    createTransport: ({ sessionKey }) =>
      new BroadcastChannelClientTransport({ ...options, proposedSessionId: sessionKey }),
    // Nothing is shared between sessions; the gateway closes each session's transport itself.
    close: async () => {},
  };
}
