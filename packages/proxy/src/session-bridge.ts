import {
  type BackendMessageExtra,
  type Clock,
  type ClockTimer,
  describeError,
  internalError,
  isAnswer,
  isInitializeResult,
  isNotification,
  isRequest,
  type JSONRPCMessage,
  JsonRpcErrorCode,
  jsonRpcError,
  type Logger,
  type RequestId,
  requestIdKey,
  sessionBusyError,
  silentLogger,
  systemClock,
  type Transport,
  unrefTimer,
} from '@asyncmcp/core';
import { PROXY_DEFAULTS } from './proxy-defaults.js';

/** What the bridge reports as it works, for metrics. */
export interface BridgeObserver {
  onRequest?(method: string): void;
  /**
   * A request ended: answered, failed (backend unreachable), timed out, cancelled, or refused without
   * being forwarded (the session already ran `maxInFlight` requests).
   */
  onRequestEnd?(
    method: string,
    outcome: 'answered' | 'error' | 'timeout' | 'cancelled' | 'refused',
    seconds: number,
  ): void;
  onBackendError?(error: Error): void;
  /** An answer came back for a request that is no longer waiting (timed out, cancelled). */
  onDropped?(reason: string): void;
}

export interface SessionBridgeOptions {
  /** The client-facing transport (Streamable HTTP or stdio). */
  front: Transport;
  /** The backend transport for this session. */
  back: Transport;
  /** A request the backend does not answer in time gets a JSON-RPC error. @default PROXY_DEFAULTS.requestTimeoutMs (300000) */
  requestTimeoutMs?: number;
  /**
   * Most requests of this session waiting for the backend at once; a request beyond it gets a JSON-RPC
   * error at once and is not forwarded. The gateway sets it (`maxInFlightPerSession`); a bridge behind a
   * session manager (serve's upstream) has none of its own, since the manager caps each session already.
   * @default Infinity
   */
  maxInFlight?: number;
  /** Time source of the request timeouts; replace it in tests. @default systemClock */
  clock?: Clock;
  logger?: Logger;
  observer?: BridgeObserver;
  /**
   * Where a server's notifications and requests during a client request go: on that request's own
   * stream, or on the session's stream (the client's GET). A front answering with plain JSON bodies has
   * no request streams, so they go on the session's stream instead of being lost. @default 'request'
   */
  serverMessageStream?: 'request' | 'session';
  /** Called once, when either side closed and the bridge has torn down both. */
  onclose?: () => void;
  /**
   * Called once the server answered the session's `initialize` with an error (a worker at its session
   * limit, say) and the client has that answer: the session never started, and its owner ends it
   * instead of keeping it until it is evicted as idle.
   */
  onInitializeRefused?: () => void;
}

interface InFlight {
  method: string;
  startedAt: number;
  progressToken: string | number | undefined;
  timer: ClockTimer | undefined;
}

/**
 * Pumps one gateway session between its two transports: every message both ways, ids kept. Requests
 * from the client are tracked so that an answer that never comes turns into an error, progress and
 * other server messages reach the stream of the request they belong to, and a backend that cannot be
 * reached gives an immediate error instead of a hang. A session that ends with requests running (its
 * client deleted it, the gateway evicted it or shut down, the server side went away) gives each of them
 * an error too, and tells the server to stop working on them where there is one to tell.
 */
export class SessionBridge {
  readonly #front: Transport;
  readonly #back: Transport;
  readonly #logger: Logger;
  readonly #observer: BridgeObserver;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #clock: Clock;
  /** Made on the first request: an idle session keeps none (a gateway holds many). */
  #inFlight: Map<string, InFlight & { id: RequestId }> | undefined;
  readonly #onclose: (() => void) | undefined;
  readonly #onInitializeRefused: (() => void) | undefined;
  readonly #onRequestStreams: boolean;
  #idleWaiters: Array<() => void> | undefined;
  /** Why the session is ending, once it is: a request arriving from then on is answered with it at once. */
  #ending: string | undefined;
  /** Settles once every message handed to `#tellClient` is sent (or failed). */
  #toldClient: Promise<unknown> = SETTLED;
  /** Settles once every cancellation handed to `#cancelAtServer` is sent (or failed). */
  #cancelled: Promise<unknown> = SETTLED;
  #closed = false;

  constructor(options: SessionBridgeOptions) {
    this.#front = options.front;
    this.#back = options.back;
    this.#logger = options.logger ?? silentLogger;
    this.#observer = options.observer ?? NO_OBSERVER;
    this.#timeoutMs = options.requestTimeoutMs ?? PROXY_DEFAULTS.requestTimeoutMs;
    this.#maxInFlight = options.maxInFlight ?? Number.POSITIVE_INFINITY;
    this.#clock = options.clock ?? systemClock;
    this.#onclose = options.onclose;
    this.#onInitializeRefused = options.onInitializeRefused;
    this.#onRequestStreams = (options.serverMessageStream ?? 'request') === 'request';
    this.#front.onmessage = (message) => this.#fromClient(message);
    this.#back.onmessage = (message, extra) =>
      this.#fromServer(message, extra as BackendMessageExtra | undefined);
    this.#front.onclose = () => void this.close();
    // When the server side goes away (a crashed child, a closed backend), every waiting request gets an
    // error before the client side closes, so no caller hangs.
    this.#back.onclose = () => void this.#closeAfterServerEnded();
    this.#front.onerror = (error) => this.#logger.warn({ err: error.message }, 'client transport error');
    this.#back.onerror = (error) => {
      this.#observer.onBackendError?.(error);
      this.#logger.warn({ err: error.message }, 'backend transport error');
    };
  }

  /** Requests forwarded and not answered yet. */
  get inFlight(): number {
    return this.#inFlight?.size ?? 0;
  }

  /** Resolves once no forwarded request is waiting for its answer. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idleWaiters ??= [];
      this.#idleWaiters.push(resolve);
    });
  }

  async start(): Promise<void> {
    await this.#back.start();
    await this.#front.start();
  }

  #fromClient(message: JSONRPCMessage): void {
    if (this.#ending !== undefined) {
      // The session is ending: nothing more is forwarded, and a request must not wait for an answer
      // that cannot come.
      if (isRequest(message)) this.#tellClient([sessionEndedError(this.#ending, message.id)]);
      return;
    }
    if (
      isRequest(message) &&
      this.inFlight >= this.#maxInFlight &&
      !this.#inFlight?.has(requestIdKey(message.id))
    ) {
      // Refused here, so one session cannot pile work on the backend's shared queue or its workers.
      this.#observer.onRequestEnd?.(message.method, 'refused', 0);
      this.#logger.warn(
        { requestId: message.id, limit: this.#maxInFlight },
        'request refused: too many running in the session',
      );
      this.#toClient(sessionBusyError(this.#maxInFlight, message.id));
      return;
    }
    if (isRequest(message)) {
      const meta = (message.params as { _meta?: { progressToken?: string | number } } | undefined)?._meta;
      const entry = {
        id: message.id,
        method: message.method,
        startedAt: performance.now(),
        progressToken: meta?.progressToken,
        timer: unrefTimer(this.#clock, () => this.#timeout(message.id), this.#timeoutMs),
      };
      this.#inFlight ??= new Map();
      this.#inFlight.set(requestIdKey(message.id), entry);
      this.#observer.onRequest?.(message.method);
    } else if (isNotification(message) && message.method === 'notifications/cancelled') {
      const requestId = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (requestId !== undefined) this.#end(requestId, 'cancelled');
    }
    this.#back.send(message).catch((error: unknown) => this.#backendFailed(message, error));
  }

  #backendFailed(message: JSONRPCMessage, error: unknown): void {
    const detail = describeError(error);
    this.#observer.onBackendError?.(error instanceof Error ? error : new Error(detail));
    this.#logger.error(
      { err: detail, method: 'method' in message ? message.method : undefined },
      'backend send failed',
    );
    if (!isRequest(message) || !this.#end(message.id, 'error')) return;
    this.#toClient(internalError(`the backend could not be reached: ${detail}`, message.id));
  }

  #timeout(id: RequestId): void {
    const entry = this.#inFlight?.get(requestIdKey(id));
    if (!entry || !this.#end(id, 'timeout')) return;
    this.#logger.warn(
      { requestId: id, method: entry.method, timeoutMs: this.#timeoutMs },
      'backend did not answer in time',
    );
    this.#toClient(
      jsonRpcError(
        JsonRpcErrorCode.RequestTimeout,
        `Request timed out: the backend did not answer ${entry.method} within ${this.#timeoutMs} ms`,
        id,
      ),
    );
    // Tell the server to stop working on it; if it cannot be reached, there is nothing more to do.
    this.#back
      .send({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: id, reason: 'timeout' },
      })
      .catch(() => undefined);
  }

  /** Stops tracking a request: its entry, or undefined when it was not (or no longer) tracked. */
  #end(id: RequestId, outcome: 'answered' | 'error' | 'timeout' | 'cancelled'): InFlight | undefined {
    const inFlight = this.#inFlight;
    const entry = inFlight?.get(requestIdKey(id));
    if (!inFlight || !entry) return undefined;
    if (entry.timer) this.#clock.clearTimeout(entry.timer);
    inFlight.delete(requestIdKey(id));
    this.#observer.onRequestEnd?.(entry.method, outcome, (performance.now() - entry.startedAt) / 1000);
    if (inFlight.size === 0) {
      // Quiet again: the map goes with the last request, as an idle session keeps none.
      this.#inFlight = undefined;
      this.#releaseIdleWaiters();
    }
    return entry;
  }

  #fromServer(message: JSONRPCMessage, extra: BackendMessageExtra | undefined): void {
    if (isAnswer(message)) {
      const id = message.id;
      // Answers to server→client requests never come this way; an answer we are not waiting for is late.
      const ended = id === undefined ? undefined : this.#end(id, 'answered');
      if (ended === undefined) {
        this.#observer.onDropped?.('late answer');
        this.#logger.info({ requestId: id }, 'answer for a request no longer waiting dropped');
        return;
      }
      if (isInitializeResult(message)) {
        this.#back.setProtocolVersion?.(String(message.result.protocolVersion));
      }
      const delivered = this.#toClient(message);
      if (ended.method === 'initialize' && 'error' in message) {
        void delivered.then(() => this.#onInitializeRefused?.());
      }
      return;
    }
    this.#toClient(message, this.#onRequestStreams ? this.#relatedRequestOf(message, extra) : undefined);
  }

  /** The client request a server notification or request belongs to, when it can be told. */
  #relatedRequestOf(message: JSONRPCMessage, extra: BackendMessageExtra | undefined): RequestId | undefined {
    const named = extra?.relatedRequestId;
    const inFlight = this.#inFlight;
    if (inFlight === undefined) return undefined;
    if (named !== undefined && inFlight.has(requestIdKey(named))) return named;
    if (isNotification(message) && message.method === 'notifications/progress') {
      const token = (message.params as { progressToken?: string | number } | undefined)?.progressToken;
      for (const entry of inFlight.values()) if (entry.progressToken === token) return entry.id;
    }
    // A server that does not name the request: with exactly one running, it can only be that one.
    if (inFlight.size === 1) return inFlight.values().next().value?.id;
    return undefined;
  }

  /** Resolves once the message went to the client, or could not. */
  #toClient(message: JSONRPCMessage, relatedRequestId?: RequestId): Promise<void> {
    return this.#front
      .send(message, relatedRequestId === undefined ? undefined : { relatedRequestId })
      .catch((error: unknown) => {
        this.#logger.warn({ err: describeError(error) }, 'could not deliver a message to the client');
      });
  }

  #releaseIdleWaiters(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = undefined;
    for (const resolve of waiters ?? []) resolve();
  }

  async #closeAfterServerEnded(): Promise<void> {
    if (this.#closed) return;
    this.#ending ??= 'the server side of this session ended';
    // There is no server left to cancel at: each waiting request only gets its error.
    this.#tellClient(
      this.#takeRunning('error').map((entry) =>
        internalError('the server side of this session ended before answering', entry.id),
      ),
    );
    await this.close();
  }

  /**
   * Ends every running request because the session is ending: the client gets a JSON-RPC error naming
   * `reason` on the request's own stream, and the server is told to stop working on it. A request that
   * arrives from then on gets the same error at once. Resolves once the errors are handed to the client
   * transport, so a caller about to close that transport itself (the SDK's, after a DELETE) awaits this
   * first; `close(reason)` does all of it and then closes both sides.
   */
  async endRunning(reason: string): Promise<void> {
    this.#ending ??= reason;
    const running = this.#takeRunning('cancelled');
    this.#cancelAtServer(running, reason);
    this.#tellClient(running.map((entry) => sessionEndedError(reason, entry.id)));
    await this.#toldClient;
  }

  /**
   * Closes both sides once. With a `reason` the client is still there to read it: each running request
   * first gets a JSON-RPC error naming it (see `endRunning`). Without one the client side is gone (its
   * transport closed, stdin ended), so running requests are only cancelled at the server.
   */
  async close(reason?: string): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (reason !== undefined) {
      await this.endRunning(reason);
    } else {
      this.#ending ??= 'the client closed the session';
      this.#cancelAtServer(this.#takeRunning('cancelled'), this.#ending);
    }
    this.#releaseIdleWaiters();
    await Promise.allSettled([
      // Closing the client side closes the request streams: every error handed to it goes out first.
      this.#toldClient.then(() => this.#front.close()),
      // The cancellations go out before the server side closes (over a queue, that ends the session).
      this.#cancelled.then(() => this.#back.close()),
    ]);
    this.#onclose?.();
  }

  /** Stops tracking every running request, each with `outcome`, and returns them. */
  #takeRunning(outcome: 'error' | 'cancelled'): Array<InFlight & { id: RequestId }> {
    const running = [...(this.#inFlight?.values() ?? [])];
    for (const entry of running) this.#end(entry.id, outcome);
    return running;
  }

  /** Sends messages to the client that must be out before its transport closes. */
  #tellClient(messages: JSONRPCMessage[]): void {
    if (messages.length === 0) return;
    const sent = messages.map((message) =>
      this.#front.send(message).catch((error: unknown) => {
        this.#logger.warn({ err: describeError(error) }, 'could not deliver a message to the client');
      }),
    );
    this.#toldClient = Promise.all([this.#toldClient, ...sent]);
  }

  /** Tells the server to stop working on these requests; they go out before the server side closes. */
  #cancelAtServer(requests: Array<{ id: RequestId }>, reason: string): void {
    if (requests.length === 0) return;
    const sent = requests.map((entry) =>
      this.#back
        .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: entry.id, reason } })
        .catch(() => undefined),
    );
    this.#cancelled = Promise.all([this.#cancelled, ...sent]);
  }
}

/** Already settled: what a bridge waits on before it has sent anything; one for every bridge. */
const SETTLED: Promise<unknown> = Promise.resolve();
/** A bridge given no observer reports to nobody; one for every bridge. */
const NO_OBSERVER: BridgeObserver = Object.freeze({});

/** The error a request gets when its session ends before the server answered it. */
function sessionEndedError(reason: string, id: RequestId): JSONRPCMessage {
  return jsonRpcError(
    JsonRpcErrorCode.ConnectionClosed,
    `Connection closed: ${reason} before the server answered`,
    id,
  );
}
