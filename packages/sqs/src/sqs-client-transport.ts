import {
  ClientSessionState,
  ConfigurationError,
  type Disposition,
  decodeMessage,
  encodeMessage,
  isInitializeResult,
  type Logger,
  type MessageSigning,
  pickQueuePolling,
  QueueConsumer,
  type QueueMessage,
  type QueuePollingOptions,
  SessionLostError,
  sessionLogId,
  sessionLostError,
  silentLogger,
  type Transport,
  TransportStateError,
  terminateSessionNotification,
  toError,
} from '@asyncmcp/core';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { handleControlMessage } from './control-messages.js';
import { type DestinationScope, destinationScopeOf, loggableUrl } from './response-destinations.js';
import { unwrapSnsEnvelope } from './sns-envelope.js';
import type { SqsControlMessageHandler, SqsRequestChannel } from './sqs-channels.js';
import { sqsRequestChannel } from './sqs-default-channels.js';
import { SqsSender } from './sqs-queue.js';
import {
  readableQueue,
  type SqsSigningOptions,
  sqsMessageSigning,
  validateSignedCustomAttributes,
} from './sqs-signing.js';
import { WorkerLink } from './worker-link.js';

export interface SqsClientTransportOptions extends SqsSigningOptions, QueuePollingOptions {
  sqsClient: SQSClient;
  /** The server's request queue; every client sends there. */
  requestQueueUrl: string;
  /** This client's own queue; named to the server in `initialize` as `_meta.responseQueueUrl`. */
  responseQueueUrl: string;
  /** Sent as `ClientId`. @default a random UUID */
  clientId?: string;
  /**
   * Extra attributes on every message; at most 3 (1 with `signingSecret`), and no protocol attribute
   * names.
   */
  messageAttributes?: Record<string, string>;
  /** Size limit checked before sending. @default the request queue's `MaximumMessageSize` */
  maxMessageBytes?: number;
  logger?: Logger;
}

/**
 * The options of a transport built on this one that reads its answers from an SQS queue but sends
 * through a channel of its own (`@asyncmcp/sns-sqs` publishes to an SNS topic).
 */
export interface SqsChannelClientTransportOptions
  extends Omit<SqsClientTransportOptions, 'requestQueueUrl' | 'maxMessageBytes'> {
  /** How messages reach the server and what `initialize` names; it checks its own size limit. */
  requestChannel: SqsRequestChannel;
  /** A session id proposed on `initialize`; servers that adopt proposals answer under it. */
  proposedSessionId?: string;
  /**
   * What to do with a message on the response queue that belongs to another session: `delete` drops it
   * with a log line (a queue this client reads alone: a message left from an earlier session, or a copy
   * fanned out by a topic); `release` hands it back for another reader of a shared queue — which can
   * bounce a message between readers that both refuse it, so use it only when every session on the
   * queue is live. @default 'delete'
   */
  otherSessionMessages?: 'release' | 'delete';
  /** What to do with SNS control messages on the response queue. @default log and delete them */
  onControlMessage?: SqsControlMessageHandler;
}

/**
 * An MCP client transport over SQS: `new Client(...).connect(new SqsClientTransport(...))`. Sends to the
 * server's request queue, long-polls its own response queue, and performs the handshake of PROTOCOL.md
 * §1 (`_meta.responseQueueUrl` in `initialize`, the session id adopted from the answer).
 */
export class SqsClientTransport implements Transport {
  readonly #options: SqsClientTransportOptions | SqsChannelClientTransportOptions;
  readonly #state: ClientSessionState;
  readonly #channel: SqsRequestChannel;
  readonly #logger: Logger;
  readonly #otherSessionMessages: 'release' | 'delete';
  readonly #link: WorkerLink;
  readonly #signing: MessageSigning | undefined;
  /** Where a worker's inbox may be: this client's endpoint and account. Read at `start()`. */
  #scope: DestinationScope | undefined;
  #consumer: QueueConsumer | undefined;
  #closed = false;
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  constructor(options: SqsClientTransportOptions | SqsChannelClientTransportOptions) {
    if (!options.responseQueueUrl)
      throw new ConfigurationError('SqsClientTransport needs a responseQueueUrl');
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#signing = sqsMessageSigning(options);
    validateSignedCustomAttributes(this.#signing, options.messageAttributes);
    if (isChannelOptions(options)) {
      this.#channel = options.requestChannel;
      this.#otherSessionMessages = options.otherSessionMessages ?? 'delete';
    } else {
      if (!options.requestQueueUrl)
        throw new ConfigurationError('SqsClientTransport needs a requestQueueUrl');
      this.#channel = sqsRequestChannel(options, this.#signing);
      // Each client owns its response queue: another session's message there is a leftover.
      this.#otherSessionMessages = 'delete';
    }
    this.#state = new ClientSessionState({
      clientId: options.clientId,
      meta: this.#channel.meta,
      customAttributes: options.messageAttributes,
      proposedSessionId: isChannelOptions(options) ? options.proposedSessionId : undefined,
    });
    this.#link = new WorkerLink({
      sqsClient: options.sqsClient,
      sender: new SqsSender(options.sqsClient, { signer: this.#signing?.signer }),
      onLost: (reason) => this.#lost(reason),
    });
  }

  get sessionId(): string | undefined {
    return this.#state.sessionId;
  }

  get clientId(): string {
    return this.#state.clientId;
  }

  setProtocolVersion(version: string): void {
    this.#state.protocolVersion = version;
  }

  /** Answers dropped because they matched no request of this session (forged, late or duplicate). */
  get stats(): { readonly unmatched: number } {
    return this.#state.stats;
  }

  async start(): Promise<void> {
    if (this.#consumer) throw new Error('The transport is already started');
    if (this.#closed) throw new TransportStateError('closed');
    this.#scope = await destinationScopeOf({
      sqsClient: this.#options.sqsClient,
      homeQueueUrl: this.#options.responseQueueUrl,
    });
    this.#consumer = new QueueConsumer({
      // With a secret, a message nobody signed with it (a forged answer) is refused before it is read.
      source: readableQueue(this.#options.sqsClient, this.#options.responseQueueUrl, this.#signing, {
        logger: this.#logger,
      }),
      handle: async (message) => ({ settled: Promise.resolve(this.#receive(message)) }),
      orderingKey: () => 'client',
      ...pickQueuePolling(this.#options),
      logger: this.#logger,
    });
    this.#consumer.start();
  }

  #receive(queued: QueueMessage): Disposition | Promise<Disposition> {
    const unwrapped = unwrapSnsEnvelope(queued.body, queued.attributes);
    if (unwrapped.kind !== 'message') {
      const onControlMessage = isChannelOptions(this.#options) ? this.#options.onControlMessage : undefined;
      return handleControlMessage(unwrapped, queued, onControlMessage, this.#logger);
    }
    const decoded = decodeMessage(unwrapped.body);
    if (!decoded.ok) {
      this.onerror?.(
        new Error(`Discarded an invalid message from the response queue: ${decoded.error.error.message}`),
      );
      return 'delete';
    }
    const received = this.#state.receive(decoded.message, unwrapped.attributes);
    if (received.status === 'unmatched') {
      // Not an answer to anything we asked (forged, late or a duplicate): never the SDK's to see.
      this.#logger.warn(
        {
          sessionId: sessionLogId(this.sessionId),
          id: 'id' in decoded.message ? decoded.message.id : undefined,
        },
        'answer for no request of this session dropped',
      );
      return 'delete';
    }
    if (received.status === 'other-session') {
      const fields = {
        sessionId: sessionLogId(this.sessionId),
        other: sessionLogId(unwrapped.attributes.SessionId),
      };
      if (this.#otherSessionMessages === 'delete') {
        // A leftover of an earlier session, or a fanned-out copy: nobody reading this queue needs it.
        this.#logger.warn(fields, 'message for another session deleted');
        return 'delete';
      }
      // Another session's message on a shared queue: let its own reader have it.
      this.#logger.warn(fields, 'message for another session released');
      return 'release';
    }
    if (isInitializeResult(received.message)) this.#attach();
    // The link sees ids as they went on the wire, the SDK its own.
    if (this.#link.received(decoded.message) === 'swallow') return 'delete';
    try {
      this.onmessage?.(received.message);
    } catch (error) {
      this.onerror?.(toError(error));
    }
    return 'delete';
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new TransportStateError('closed');
    if (!this.#consumer) throw new TransportStateError('not-started');
    const lost = this.#link.lostReason;
    if (lost !== undefined) throw new SessionLostError({ sessionId: this.sessionId, reason: lost });
    const prepared = this.#state.prepare(message);
    const outbound = {
      message: prepared.message,
      body: encodeMessage(prepared.message),
      attributes: prepared.attributes,
      groupId: this.#state.sessionId ?? this.#state.clientId,
    };
    try {
      // A session whose worker named its inbox talks to that worker alone.
      await (this.#link.inbox === undefined ? this.#channel.send(outbound) : this.#link.send(outbound));
    } catch (error) {
      // The request never left: nothing may answer it.
      if ('id' in prepared.message && 'method' in prepared.message) this.#state.discard(prepared.message.id);
      throw error;
    }
  }

  /** Follows the worker's inbox hint, when the inbox is on this client's endpoint and account. */
  #attach(): void {
    const refused = this.#link.attach(this.#state.worker, this.#scope);
    if (refused !== undefined) {
      this.#logger.warn(
        { sessionId: this.sessionId, inbox: loggableUrl(this.#state.worker?.inbox ?? ''), reason: refused },
        'worker inbox refused; the session keeps sending to the request queue',
      );
    }
  }

  /**
   * The worker holding the session is gone: every waiting request gets an error that says so (the SDK
   * rejects each call with it), then the transport closes, as a dropped connection would.
   */
  #lost(reason: string): void {
    this.#logger.warn({ sessionId: sessionLogId(this.sessionId), reason }, 'session lost');
    for (const wireId of this.#link.pendingIds()) {
      const id = this.#state.clientIdOf(wireId);
      if (id === undefined) continue;
      this.#state.discard(wireId);
      try {
        this.onmessage?.(sessionLostError(this.sessionId, reason, id));
      } catch (error) {
        this.onerror?.(toError(error));
      }
    }
    this.onerror?.(new SessionLostError({ sessionId: this.sessionId, reason }));
    void this.close();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Tell the server the session is over (best effort), so it need not wait for idle eviction.
    if (this.sessionId !== undefined && this.#consumer && this.#link.lostReason === undefined) {
      await this.send(terminateSessionNotification()).catch(() => undefined);
    }
    this.#closed = true;
    this.#link.close();
    await this.#consumer?.stop({ timeoutMs: 0 });
    this.onclose?.();
  }
}

function isChannelOptions(
  options: SqsClientTransportOptions | SqsChannelClientTransportOptions,
): options is SqsChannelClientTransportOptions {
  return (options as Partial<SqsChannelClientTransportOptions>).requestChannel !== undefined;
}
