import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { type Clock, unrefTimer } from './clock.js';
import { isAnswer } from './codec.js';
import type { ConnectableServer, ServerFactory } from './contracts.js';
import { describeError, TimeoutError, TransportStateError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import type { ServerKey } from './server-key.js';

/** The id of the `initialize` a pooled server is opened with; no client request ever reaches it. */
const INITIALIZE_ID = 'asyncmcp-pool-initialize';

export interface PooledServerOptions {
  keyId: string;
  key: ServerKey;
  /** Everything the server sends, except the answer to the pool's own `initialize`. */
  onmessage: (server: PooledServer, message: JSONRPCMessage, options?: TransportSendOptions) => Promise<void>;
  /** The transport closed; `expected` is false when the server closed it by itself (a crash). */
  onclose: (server: PooledServer, expected: boolean) => void;
  logger?: Logger;
}

/**
 * The in-process `Transport` between one pooled MCP server and the stateless dispatcher, and the
 * handshake that readies the server: it is initialized once, as a client with the pool key's
 * version, capabilities and info, and then serves requests from any session that shares that key.
 */
export class PooledServer implements Transport {
  readonly keyId: string;
  readonly key: ServerKey;
  /** The server's answer to the pool's `initialize`, given to every client that initializes with the key. */
  initializeResult: Record<string, unknown> | undefined;
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  readonly #options: PooledServerOptions;
  readonly #logger: Logger;
  #server: ConnectableServer | undefined;
  #closed = false;
  #shuttingDown = false;
  #initialized: { resolve: (message: JSONRPCMessage) => void; reject: (error: Error) => void } | undefined;

  constructor(options: PooledServerOptions) {
    this.#options = options;
    this.keyId = options.keyId;
    this.key = options.key;
    this.#logger = options.logger ?? silentLogger;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Creates the server, connects it here and initializes it; gives up after `timeoutMs`. */
  async open(createServer: ServerFactory, clock: Clock, timeoutMs: number): Promise<void> {
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    try {
      const server = await createServer();
      this.#server = server;
      // Closed while the factory ran (the pool is closing): the server is not wanted any more.
      if (this.#closed) throw new TransportStateError('closed', 'pooled server');
      const answered = new Promise<JSONRPCMessage>((resolve, reject) => {
        this.#initialized = { resolve, reject };
        timer = unrefTimer(
          clock,
          () => reject(new TimeoutError(`the server did not answer initialize within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      await server.connect(this);
      this.deliver({
        jsonrpc: '2.0',
        id: INITIALIZE_ID,
        method: 'initialize',
        params: { ...this.key },
      });
      const answer = await answered;
      if (!('result' in answer)) {
        const detail = 'error' in answer ? answer.error.message : 'no result';
        throw new Error(`the server refused initialize: ${detail}`);
      }
      this.initializeResult = answer.result;
      this.deliver({ jsonrpc: '2.0', method: 'notifications/initialized' });
    } catch (cause) {
      await this.shutdown();
      throw cause;
    } finally {
      if (timer) clock.clearTimeout(timer);
      this.#initialized = undefined;
    }
  }

  /** Hands a message to the server. Throws once the transport is closed. */
  deliver(message: JSONRPCMessage): void {
    if (this.#closed) throw new TransportStateError('closed', 'pooled server');
    this.onmessage?.(message);
  }

  /** Closes the server on purpose (idle, evicted, the pool closing); resolves once it is closed. */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    try {
      await this.#server?.close();
    } catch (cause) {
      this.#logger.warn({ err: describeError(cause) }, 'pooled server close failed');
    }
    // A server that did not close its transport (or was never connected) is cut off here.
    await this.close();
  }

  // ---- Transport: what the server calls ----

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#closed) throw new TransportStateError('closed', 'pooled server');
    if (this.#initialized && isAnswer(message) && message.id === INITIALIZE_ID) {
      this.#initialized.resolve(message);
      return;
    }
    await this.#options.onmessage(this, message, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#initialized?.reject(new TransportStateError('closed', 'pooled server'));
    this.onclose?.();
    this.#options.onclose(this, this.#shuttingDown);
  }
}
