import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ConnectableServer } from './contracts.js';
import { ReachedAddresses } from './missing-address-grace.js';
import { PendingRequests } from './pending-requests.js';

/** What a session's transport asks of the dispatcher that holds it. */
export interface SessionHolder<A> {
  sendFromSession(
    session: DispatcherSession<A>,
    message: JSONRPCMessage,
    options?: TransportSendOptions,
  ): Promise<void>;
  endFromSession(session: DispatcherSession<A>): Promise<void>;
}

/** The per-session `Transport` a session's MCP server is connected to. */
export class DispatcherSession<A> implements Transport {
  readonly pending = new PendingRequests<A>();
  /** The address the session's last request named, when it named one. */
  lastRequestAddress: A | undefined;
  /** Addresses this session's messages reached: only those are given time when found missing. */
  readonly reached = new ReachedAddresses<A>();
  readonly createdAt = Date.now();
  protocolVersion: string | undefined;
  server: ConnectableServer | undefined;
  ready: Promise<void> = Promise.resolve();
  closed = false;
  #closeFired = false;
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  constructor(
    private readonly holder: SessionHolder<A>,
    readonly sessionId: string,
    /** Where messages that belong to no request go: the `initialize` address, or a later `listening` one. */
    public address: A,
    readonly clientId: string | undefined,
  ) {}

  async start(): Promise<void> {}

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.holder.sendFromSession(this, message, options);
  }

  async close(): Promise<void> {
    if (!this.closed) await this.holder.endFromSession(this);
    this.fireClose();
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  fireClose(): void {
    if (this.#closeFired) return;
    this.#closeFired = true;
    this.onclose?.();
  }

  /**
   * The session's listening `address` was deleted. False when that was the only address its client ever
   * used: the session is over. True when another one is still in use (another gateway instance of a
   * fleet sends its requests): the session goes on, its unsolicited messages now going there.
   */
  followAnotherAddress(gone: A): boolean {
    if (gone !== this.address) return true;
    const other = this.lastRequestAddress;
    if (other === undefined || other === gone) return false;
    this.address = other;
    return true;
  }
}
