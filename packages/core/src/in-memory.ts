import { randomUUID } from 'node:crypto';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { ClientSessionState } from './client-session-state.js';
import { decodeMessage, encodeMessage } from './codec.js';
import type { Backend, ServerFactory, SessionInfo, SessionManager } from './contracts.js';
import type { InboundMessage } from './dispatch-contract.js';
import { buildServerAttributes } from './envelope.js';
import { TransportStateError } from './errors.js';
import { readMeta } from './meta.js';
import { terminateSessionNotification } from './session-control.js';
import { SessionDispatcher } from './session-dispatcher.js';
import { generateSessionId } from './session-id.js';

/**
 * The reference async transport: a broker of named in-memory mailboxes standing in for queues. It is
 * small on purpose — copy it to start a new backend, then replace the broker calls with your channel's.
 * Messages cross as encoded text plus attributes, exactly as they would cross a real queue.
 */
export class InMemoryBroker {
  readonly #mailboxes = new Map<string, (message: InboundMessage) => void>();

  listen(address: string, receive: (message: InboundMessage) => void): () => void {
    this.#mailboxes.set(address, receive);
    return () => this.#mailboxes.delete(address);
  }

  /** Delivers on a later tick, like a queue; a message to a missing mailbox is lost, like a deleted queue. */
  async post(address: string, message: InboundMessage): Promise<void> {
    const receive = this.#mailboxes.get(address);
    if (receive) queueMicrotask(() => receive(message));
  }
}

const META_KEY = 'inMemoryAddress';

export class InMemorySessionManager implements SessionManager {
  readonly #dispatcher: SessionDispatcher<string>;
  #stop: (() => void) | undefined;

  constructor(readonly options: { broker: InMemoryBroker; address: string; createServer: ServerFactory }) {
    this.#dispatcher = new SessionDispatcher<string>({
      createServer: options.createServer,
      addressOf: (initialize) => readMeta(initialize, META_KEY),
      addressDescription: `_meta.${META_KEY}`,
      send: (message, { sessionId, address, relatedRequestId }) =>
        options.broker.post(address, {
          body: encodeMessage(message),
          attributes: buildServerAttributes({ message, sessionId, relatedRequestId }),
        }),
    });
  }

  get sessions(): ReadonlyMap<string, SessionInfo> {
    return this.#dispatcher.sessions;
  }

  async start(): Promise<void> {
    this.#stop = this.options.broker.listen(
      this.options.address,
      (message) => void this.#dispatcher.dispatch(message),
    );
  }

  terminateSession(sessionId: string): Promise<boolean> {
    return this.#dispatcher.terminate(sessionId);
  }

  async close(): Promise<void> {
    this.#stop?.();
    await this.#dispatcher.close();
  }
}

export class InMemoryClientTransport implements Transport {
  readonly #state: ClientSessionState;
  readonly #address = `client-${randomUUID()}`;
  #stop: (() => void) | undefined;
  #closed = false;
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  constructor(
    readonly options: { broker: InMemoryBroker; serverAddress: string; proposedSessionId?: string },
  ) {
    this.#state = new ClientSessionState({
      meta: { [META_KEY]: this.#address },
      proposedSessionId: options.proposedSessionId,
    });
  }

  get sessionId(): string | undefined {
    return this.#state.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.#state.protocolVersion = version;
  }

  async start(): Promise<void> {
    this.#stop = this.options.broker.listen(this.#address, ({ body, attributes }) => {
      const decoded = decodeMessage(body);
      if (!decoded.ok) return this.onerror?.(new Error(decoded.error.error.message));
      const received = this.#state.receive(decoded.message, attributes);
      if (received.status === 'deliver') this.onmessage?.(received.message);
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new TransportStateError('closed');
    const prepared = this.#state.prepare(message);
    const body = encodeMessage(prepared.message);
    await this.options.broker.post(this.options.serverAddress, {
      body,
      attributes: prepared.attributes,
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Tell the server the session is over (best effort), then stop listening.
    if (this.sessionId !== undefined) await this.send(terminateSessionNotification()).catch(() => undefined);
    this.#closed = true;
    this.#stop?.();
    this.onclose?.();
  }
}

/** A gateway backend over the in-memory broker: one client transport per gateway session. */
export function inMemoryBackend(options: { broker: InMemoryBroker; serverAddress: string }): Backend {
  return {
    specificationVersion: 'v1',
    name: 'in-memory',
    // The session id proposed to the server is its own secret, not the gateway's key for the session.
    createTransport: () =>
      new InMemoryClientTransport({ ...options, proposedSessionId: generateSessionId('hex') }),
    close: async () => {},
  };
}
