import {
  type Clock,
  type ClockTimer,
  cancelledRequestId,
  isAnswer,
  isRequest,
  isSessionAliveNotification,
  isSessionGoneError,
  type JSONRPCMessage,
  type RequestId,
  requestIdKey,
  retryWhileMissing,
  SESSION_DEFAULTS,
  sessionEndedReason,
  systemClock,
  unrefTimer,
  type WorkerHint,
} from '@asyncmcp/core';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type DestinationScope, queueRefusal } from './response-destinations.js';
import type { OutboundMessage } from './sqs-channels.js';
import { SQS_WORKER_DEFAULTS } from './sqs-defaults.js';
import { classifySqsError } from './sqs-errors.js';
import { SqsSender } from './sqs-queue.js';

/** How many alive intervals of silence, while a request waits, make a session lost. */
const LOST_AFTER_INTERVALS = 3;

export interface WorkerLinkOptions {
  sqsClient: SQSClient;
  /**
   * Shared by every link of one gateway backend, so sends to one worker's inbox in the same turn of the
   * event loop go out as one batch. @default a sender of this link's own
   */
  sender?: SqsSender;
  /** Called once, when the session is found lost; the link sends nothing after. */
  onLost: (reason: string) => void;
  /**
   * How long a send to an inbox that took messages before, now missing, is tried again before the worker
   * is taken as stopped: the queue service lost the inbox, and the worker makes it again.
   * @default SESSION_DEFAULTS.missingAddressGraceMs (5000)
   */
  missingAddressGraceMs?: number;
  /** @default systemClock */
  clock?: Clock;
}

/** What the caller does with a received message after the link has looked at it. */
export type Received = 'deliver' | 'swallow';

/**
 * The client side of a session held by one worker (PROTOCOL.md §8, `asyncmcp/worker`): sends the
 * session's messages to the worker's inbox, and decides the session is lost — the worker stopped,
 * crashed or deleted its inbox — instead of letting its requests wait for a timeout. A worker says it
 * is alive while it runs a long request, so silence while a request waits means it is gone.
 */
export class WorkerLink {
  readonly #options: WorkerLinkOptions;
  readonly #clock: Clock;
  readonly #sender: SqsSender;
  /** Request ids sent and not answered, as they went on the wire; made on the first request. */
  #pending: Map<string, RequestId> | undefined;
  #hint: WorkerHint | undefined;
  #lastSign = 0;
  #timer: ClockTimer | undefined;
  #lost: string | undefined;
  /** Whether the inbox took a message: only then is a missing inbox given time to be made again. */
  #reached = false;

  constructor(options: WorkerLinkOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#sender = options.sender ?? new SqsSender(options.sqsClient);
  }

  /**
   * Takes the hint of the `initialize` answer; without an inbox, the link does nothing. An inbox outside
   * `scope` (another endpoint or account: the answer may not be the worker's) is not used, so no queue
   * URL in a message picks where our requests go; the reason is returned, and the session keeps sending
   * to the shared queue.
   */
  attach(hint: WorkerHint | undefined, scope: DestinationScope | undefined): string | undefined {
    this.#hint = undefined;
    this.#reached = false;
    if (hint?.inbox === undefined) return undefined;
    const refused = scope === undefined ? 'the transport is not started' : queueRefusal(scope, hint.inbox);
    if (refused !== undefined) return refused;
    this.#hint = hint;
    return undefined;
  }

  /** The worker's inbox, once the session has one. */
  get inbox(): string | undefined {
    return this.#hint?.inbox;
  }

  /** Why the session was lost, once it is. */
  get lostReason(): string | undefined {
    return this.#lost;
  }

  /** The ids of the requests still waiting, as sent. */
  pendingIds(): RequestId[] {
    return [...(this.#pending?.values() ?? [])];
  }

  /**
   * Sends one message of the session to the worker's inbox. An inbox still missing after the grace means
   * the worker stopped (a stopping worker deletes it).
   */
  async send(outbound: OutboundMessage): Promise<void> {
    const inbox = this.inbox as string;
    this.#sent(outbound.message);
    const graceMs = this.#reached
      ? (this.#options.missingAddressGraceMs ?? SESSION_DEFAULTS.missingAddressGraceMs)
      : 0;
    const send = () =>
      this.#sender.send({
        queueUrl: inbox,
        body: outbound.body,
        attributes: outbound.attributes,
        groupId: outbound.groupId,
      });
    try {
      await retryWhileMissing(send, { graceMs, clock: this.#clock });
      this.#reached = true;
    } catch (error) {
      if (isRequest(outbound.message)) this.#pending?.delete(requestIdKey(outbound.message.id));
      const cause = (error as { cause?: unknown }).cause;
      if (classifySqsError(cause) === 'missing-queue') {
        this.#lose(`the worker holding the session stopped (its inbox ${inbox} is gone)`);
      }
      throw error;
    }
  }

  /** Looks at one message of the session from the worker: every one is a sign of life. */
  received(message: JSONRPCMessage): Received {
    if (this.#hint === undefined || this.#lost !== undefined) return 'deliver';
    this.#lastSign = this.#clock.now();
    if (isAnswer(message) && message.id !== undefined) this.#pending?.delete(requestIdKey(message.id));
    if (isSessionAliveNotification(message)) return 'swallow';
    const ended = sessionEndedReason(message);
    if (ended !== undefined) {
      this.#lose(ended);
      return 'swallow';
    }
    if (isSessionGoneError(message)) {
      // The worker answered that it does not hold the session (restarted without it): deliver this
      // answer, then end the rest.
      queueMicrotask(() => this.#lose('the worker no longer holds the session'));
      return 'deliver';
    }
    this.#arm();
    return 'deliver';
  }

  /** Stops watching; nothing is reported after. */
  close(): void {
    this.#disarm();
    this.#pending = undefined;
    this.#hint = undefined;
  }

  #sent(message: JSONRPCMessage): void {
    // A cancelled request gets no answer (MCP): it no longer waits on the worker.
    const cancelled = cancelledRequestId(message);
    if (cancelled !== undefined) this.#pending?.delete(requestIdKey(cancelled));
    if (!isRequest(message)) return;
    // Silence counts from the first request after a quiet spell, not from the last message heard.
    if (!this.#pending?.size) this.#lastSign = this.#clock.now();
    this.#pending ??= new Map();
    this.#pending.set(requestIdKey(message.id), message.id);
    this.#arm();
  }

  get #lostAfterMs(): number {
    return (
      (this.#hint?.aliveIntervalSeconds ?? SQS_WORKER_DEFAULTS.aliveIntervalSeconds) *
      1000 *
      LOST_AFTER_INTERVALS
    );
  }

  #arm(): void {
    if (this.#timer !== undefined || !this.#pending?.size || this.#lost !== undefined) return;
    const due = this.#lastSign + this.#lostAfterMs - this.#clock.now();
    this.#timer = unrefTimer(this.#clock, () => this.#check(), Math.max(0, due));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    this.#timer = undefined;
    if (!this.#pending?.size || this.#lost !== undefined) return;
    const silentMs = this.#clock.now() - this.#lastSign;
    if (silentMs < this.#lostAfterMs) {
      this.#arm();
      return;
    }
    this.#lose(
      `the worker holding the session sent nothing for ${Math.round(silentMs / 1000)} s while a request waited (it stopped or crashed)`,
    );
  }

  #lose(reason: string): void {
    if (this.#lost !== undefined) return;
    this.#lost = reason;
    this.#disarm();
    this.#options.onLost(reason);
  }
}
