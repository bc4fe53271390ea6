import {
  type BackendMessageExtra,
  type BackendSessionTransport,
  type BackendTransportContext,
  ClientSessionState,
  type JSONRPCMessage,
  sessionListeningNotification,
  type Transport,
  TransportStateError,
  terminateSessionNotification,
  toError,
} from '@asyncmcp/core';
import type { WorkerLink } from './worker-link.js';

/** What a gateway session asks of the backend that routes its answers. */
export interface SessionChannel {
  /** The `_meta` by which a message names this instance's response queue. */
  readonly answerMeta: Readonly<Record<string, string>>;
  /** Sends one message of a session through the channel, with the session's envelope. */
  sendFor(session: ChannelBackendSession, message: JSONRPCMessage): Promise<void>;
  /** The session is closed: nothing is routed to it any more. */
  forget(session: ChannelBackendSession): void;
}

/** One gateway session's transport: sends through the backend, receives what the backend routes to it. */
export class ChannelBackendSession implements BackendSessionTransport {
  readonly state: ClientSessionState;
  /** Made once the worker names an inbox to follow: most sessions never need one. */
  link: WorkerLink | undefined;
  #closed = false;
  #endAtServer = true;
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  /** The gateway's key for the session (the context it was opened with is not kept: only this). */
  readonly key: string;

  constructor(
    private readonly backend: SessionChannel,
    context: BackendTransportContext,
    readonly proposedSessionId: string,
    stateOptions: ConstructorParameters<typeof ClientSessionState>[0],
  ) {
    this.key = context.sessionKey;
    this.state = new ClientSessionState(stateOptions);
  }

  get sessionId(): string | undefined {
    return this.state.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.state.protocolVersion = version;
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new TransportStateError('closed');
    await this.backend.sendFor(this, message);
  }

  deliver(message: JSONRPCMessage, extra?: BackendMessageExtra): void {
    if (this.#closed) return;
    try {
      this.onmessage?.(message, extra);
    } catch (error) {
      this.onerror?.(toError(error));
    }
  }

  keepServerSession(): void {
    this.#endAtServer = false;
  }

  async listenHere(): Promise<void> {
    if (this.#closed || this.state.sessionId === undefined) return;
    await this.backend.sendFor(this, sessionListeningNotification(this.backend.answerMeta));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // The gateway session ended (DELETE, eviction, shutdown): end the server's session too, best effort,
    // unless other instances of the fleet may still serve it.
    if (this.#endAtServer && this.state.sessionId !== undefined && this.link?.lostReason === undefined) {
      await this.backend.sendFor(this, terminateSessionNotification()).catch(() => undefined);
    }
    this.#closed = true;
    this.link?.close();
    this.backend.forget(this);
    this.onclose?.();
  }
}
