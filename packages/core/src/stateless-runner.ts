import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  JSONRPCResultResponse,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { ClientReplies } from './client-replies.js';
import type { Clock } from './clock.js';
import { isAnswer, isRequest } from './codec.js';
import type { DedupeWindow } from './dedupe-window.js';
import type { SendTarget, Settlement } from './dispatch-contract.js';
import { describeError } from './errors.js';
import { JsonRpcErrorCode, jsonRpcError } from './jsonrpc-errors.js';
import { type Logger, sessionLogId } from './logger.js';
import type { PooledServer } from './pooled-server.js';
import { cancelledRequestId } from './request-ids.js';
import { type RunningRequest, RunningRequests } from './running-requests.js';

export interface StatelessRunnerStats {
  /** Server→client requests (sampling, elicitation, roots) answered at once with an error. */
  serverRequestsRefused: number;
  /** Server notifications outside any request (list_changed, …): no session to send them to. */
  notificationsDropped: number;
  /** Answers and notifications for a request no longer running here (cancelled, failed). */
  lateMessagesDropped: number;
}

export interface StatelessRunnerOptions<A> {
  replies: ClientReplies<A>;
  /** Sends a server's notification to the client of its request; failures reach the server. */
  send: (message: JSONRPCMessage, target: SendTarget<A>) => Promise<void>;
  /** Completed (or released, for a failure) as each request settles. */
  dedupe: DedupeWindow;
  /** Gives a request's lease on its pooled server back. */
  release: (server: PooledServer) => void;
  clock: Clock;
  logger: Logger;
  stats: StatelessRunnerStats;
}

/**
 * The life of each client request a stateless dispatcher hands to a pooled server: forwarded under an
 * id unique in this process (clients' ids collide across sessions on one server), then settled exactly
 * once, whichever comes first of its answer, its cancellation, or its server closing.
 */
export class StatelessRunner<A> {
  readonly #options: StatelessRunnerOptions<A>;
  readonly #running = new RunningRequests<A>();

  constructor(options: StatelessRunnerOptions<A>) {
    this.#options = options;
  }

  get size(): number {
    return this.#running.size;
  }

  /** The `settled` promises of every running request. */
  settledAll(): Promise<Settlement>[] {
    return [...this.#running.values()].map((running) => running.settled);
  }

  /** Forwards a request (its dedupe entry begun, a lease on `server` taken); resolves when it settles. */
  start(
    request: JSONRPCRequest,
    fields: { sessionId: string; address: A; server: PooledServer },
  ): Promise<Settlement> {
    const running = this.#running.add({
      ...fields,
      originalId: request.id,
      method: request.method,
      startedAt: this.#options.clock.now(),
    });
    try {
      fields.server.deliver({ ...request, id: running.internalId });
    } catch (cause) {
      // The server closed between the lease and now: the queue delivers the request again.
      this.#options.logger.warn(
        { sessionId: sessionLogId(fields.sessionId), requestId: request.id, err: describeError(cause) },
        'request not delivered',
      );
      this.#finish(running, 'failed');
    }
    return running.settled;
  }

  /** What a redelivered copy of a request settles as: once the original does, if it runs here. */
  duplicateOf(sessionId: string, requestId: RequestId): Promise<Settlement> {
    const running = this.#running.find(sessionId, requestId);
    return running ? running.settled.then(() => 'duplicate') : Promise.resolve('duplicate');
  }

  /**
   * Passes a client's `notifications/cancelled` to the server running the request it names, and
   * settles that request. Returns the request's address, or undefined when it does not run here.
   */
  cancel(sessionId: string, notification: JSONRPCNotification): A | undefined {
    const requestId = cancelledRequestId(notification);
    const running = requestId === undefined ? undefined : this.#running.find(sessionId, requestId);
    if (!running) return undefined;
    try {
      running.server.deliver({
        ...notification,
        params: { ...notification.params, requestId: running.internalId },
      });
    } catch {
      // Its server is gone: the request has failed already.
    }
    // MCP servers send nothing for a cancelled request: it ends here.
    this.#finish(running, 'cancelled');
    return running.address;
  }

  /** What a pooled server sends: answers, notifications and its own requests. */
  async fromServer(
    server: PooledServer,
    message: JSONRPCMessage,
    options?: TransportSendOptions,
  ): Promise<void> {
    if (isAnswer(message)) return this.#answer(message);
    const running = this.#running.byInternalId(options?.relatedRequestId);
    if (isRequest(message)) return this.#refuse(server, message, running);
    if (!running) {
      if (options?.relatedRequestId === undefined) this.#options.stats.notificationsDropped++;
      else this.#options.stats.lateMessagesDropped++;
      this.#options.logger.debug(
        { method: message.method },
        'server notification outside a running request dropped',
      );
      return;
    }
    const target = {
      sessionId: running.sessionId,
      address: running.address,
      relatedRequestId: running.originalId,
    };
    // A failure reaches the server's `sendNotification`, as with a session's own transport.
    await this.#options.send(message, target);
  }

  /** Fails every request running on a server that closed: the queue delivers them again. */
  serverClosed(server: PooledServer): void {
    for (const running of this.#running.onServer(server)) {
      this.#options.logger.warn(
        {
          sessionId: sessionLogId(running.sessionId),
          requestId: running.originalId,
          method: running.method,
        },
        'request failed: its server closed under it; the queue will deliver it again',
      );
      this.#finish(running, 'failed');
    }
  }

  async #answer(message: JSONRPCResultResponse | JSONRPCErrorResponse): Promise<void> {
    const running = this.#running.byInternalId(message.id);
    if (!running) {
      this.#options.stats.lateMessagesDropped++;
      this.#options.logger.debug({ id: message.id }, 'answer for a request no longer running dropped');
      return;
    }
    const target = { sessionId: running.sessionId, address: running.address };
    this.#finish(running, await this.#options.replies.answer({ ...message, id: running.originalId }, target));
  }

  /** Its answer would reach whichever worker reads the queue, not this server: refused at once. */
  #refuse(server: PooledServer, request: JSONRPCRequest, running: RunningRequest<A> | undefined): void {
    this.#options.stats.serverRequestsRefused++;
    this.#options.logger.warn(
      { method: request.method, sessionId: sessionLogId(running?.sessionId), requestId: running?.originalId },
      'server-to-client request refused: a stateless server cannot receive its answer',
    );
    const error = jsonRpcError(
      JsonRpcErrorCode.MethodNotFound,
      `${request.method} is not available: this server runs stateless, and a client's answer would reach any worker, not this server`,
      request.id,
    );
    // After the server's `send` returns, as an answer from a peer would arrive.
    queueMicrotask(() => {
      if (!server.closed) server.deliver(error);
    });
  }

  #finish(running: RunningRequest<A>, settlement: Settlement): void {
    if (!this.#running.remove(running)) return;
    // Failed requests are forgotten, so the redelivery runs them; the rest are remembered.
    if (settlement === 'failed') this.#options.dedupe.release(running.dedupeKey);
    else this.#options.dedupe.complete(running.dedupeKey);
    this.#options.release(running.server);
    running.settle(settlement);
  }
}
