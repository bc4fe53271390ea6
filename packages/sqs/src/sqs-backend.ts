import { randomBytes } from 'node:crypto';
import {
  ConfigurationError,
  describeError,
  type Logger,
  type MessageSigner,
  MetaKey,
  type QueuePollingOptions,
  silentLogger,
} from '@asyncmcp/core';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ResponseQueueLease } from './response-queue-lease.js';
import { type SqsChannelBackend, sqsChannelBackend } from './sqs-channel-backend.js';
import type { OutboundMessage, SqsBackendChannel, SqsBackendChannelEndpoint } from './sqs-channels.js';
import { toSqsDeliveryError } from './sqs-errors.js';
import { SqsSender } from './sqs-queue.js';
import { type SqsSigningOptions, sqsMessageSigning } from './sqs-signing.js';

export type { SqsBackendStats } from './sqs-channel-backend.js';

export interface SqsBackendOptions extends SqsSigningOptions, QueuePollingOptions {
  sqsClient: SQSClient;
  /** The request queue of the async MCP server(s) the gateway forwards to. */
  requestQueueUrl: string;
  /**
   * The one queue every gateway session's answers come back on. When omitted, the backend creates a
   * queue of its own on first use and deletes it on `close()`.
   */
  responseQueueUrl?: string;
  /** Name prefix of a queue the backend creates. @default 'asyncmcp-gateway-' */
  responseQueueNamePrefix?: string;
  /**
   * How long the response queue this backend makes stays this instance's without word from it, in whole
   * seconds from `RESPONSE_QUEUE_LEASE.minSeconds` (60) to `maxSeconds` (a week): renewed every third
   * of it (a queue tag) while it runs. A killed instance cannot delete its queue; an instance that starts
   * after the lease ran out deletes it (only queues with the name prefix and the lease tag). Out of
   * bounds, `sqsBackend()` throws a `ConfigurationError`. @default RESPONSE_QUEUE_LEASE.seconds (900)
   */
  responseQueueLeaseSeconds?: number;
  /** Sent as `ClientId` on every message. @default 'asyncmcp-gateway-' plus random hex */
  clientId?: string;
  /** Extra attributes on every message; at most 3 (1 with `signingSecret`). */
  messageAttributes?: Record<string, string>;
  /** Size limit checked before sending. @default the request queue's `MaximumMessageSize` */
  maxMessageBytes?: number;
  logger?: Logger;
}

export type SqsBackend = SqsChannelBackend<'sqs'>;

/**
 * The gateway backend over SQS (PROTOCOL.md §7): one poller on one response queue serves every gateway
 * session. Each session proposes its gateway key as the session id, and each forwarded request gets a
 * gateway-unique id, so answers are routed exactly even when servers pick their own session ids.
 */
export function sqsBackend(options: SqsBackendOptions): SqsBackend {
  if (!options.requestQueueUrl) throw new ConfigurationError('sqsBackend needs a requestQueueUrl');
  // What only the queue channel reads stays with it; the rest is the channel backend's.
  const {
    requestQueueUrl: _request,
    responseQueueUrl: _response,
    responseQueueNamePrefix: _prefix,
    responseQueueLeaseSeconds: _lease,
    maxMessageBytes: _max,
    ...rest
  } = options;
  const channel = new SqsQueueBackendChannel({
    ...options,
    signer: sqsMessageSigning(options)?.signer,
    logger: options.logger ?? silentLogger,
  });
  return sqsChannelBackend({ ...rest, name: 'sqs', channel });
}

/** Sends to the request queue; answers come back on a response queue, made here when none is given. */
class SqsQueueBackendChannel implements SqsBackendChannel {
  readonly #sender: SqsSender;
  #responseQueueUrl: string | undefined;
  /** The name of the response queue `open()` made; undefined when it was given. */
  #createdQueue: string | undefined;
  /** The made queue's lease, and the sweep of queues other instances made and left behind. */
  readonly #lease: ResponseQueueLease;

  constructor(
    private readonly options: Pick<
      SqsBackendOptions,
      | 'sqsClient'
      | 'requestQueueUrl'
      | 'responseQueueUrl'
      | 'responseQueueNamePrefix'
      | 'responseQueueLeaseSeconds'
      | 'maxMessageBytes'
    > & { logger: Logger; signer: MessageSigner | undefined },
  ) {
    this.#sender = new SqsSender(options.sqsClient, { signer: options.signer });
    this.#responseQueueUrl = options.responseQueueUrl;
    this.#lease = new ResponseQueueLease({
      sqsClient: options.sqsClient,
      namePrefix: options.responseQueueNamePrefix ?? 'asyncmcp-gateway-',
      madeBy: 'sqs',
      leaseSeconds: options.responseQueueLeaseSeconds,
      logger: options.logger,
    });
  }

  async open(): Promise<SqsBackendChannelEndpoint> {
    if (this.#responseQueueUrl === undefined) {
      const name = `${this.options.responseQueueNamePrefix ?? 'asyncmcp-gateway-'}${randomBytes(6).toString('hex')}`;
      this.#responseQueueUrl = await this.#createQueue(name);
      this.#createdQueue = name;
      this.options.logger.info(
        { responseQueueUrl: this.#responseQueueUrl },
        'created the gateway response queue',
      );
      this.#lease.keep(this.#responseQueueUrl);
      // Queues of instances that were killed are nobody's: the first instance to start after their
      // lease ran out removes them, without holding up this one's start.
      void this.#lease.sweep(this.#responseQueueUrl);
    }
    const responseQueueUrl = this.#responseQueueUrl as string;
    return { responseQueueUrl, meta: { [MetaKey.ResponseQueueUrl]: responseQueueUrl } };
  }

  async remake(): Promise<void> {
    if (this.#createdQueue !== undefined) await this.#createQueue(this.#createdQueue);
  }

  async #createQueue(name: string): Promise<string> {
    try {
      const created = await this.options.sqsClient.send(
        new CreateQueueCommand({ QueueName: name, tags: this.#lease.tags() }),
      );
      return created.QueueUrl as string;
    } catch (error) {
      throw toSqsDeliveryError(error, 'CreateQueue', name);
    }
  }

  send(outbound: OutboundMessage): Promise<void> {
    return this.#sender.send({
      queueUrl: this.options.requestQueueUrl,
      body: outbound.body,
      attributes: outbound.attributes,
      groupId: outbound.groupId,
      maxMessageBytes: this.options.maxMessageBytes,
    });
  }

  async checkReady(): Promise<void> {
    try {
      await this.options.sqsClient.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.options.requestQueueUrl,
          AttributeNames: ['QueueArn'],
        }),
      );
    } catch (error) {
      throw toSqsDeliveryError(error, 'GetQueueAttributes', this.options.requestQueueUrl);
    }
  }

  async close(): Promise<void> {
    this.#lease.stop();
    if (this.#createdQueue === undefined || !this.#responseQueueUrl) return;
    try {
      await this.options.sqsClient.send(new DeleteQueueCommand({ QueueUrl: this.#responseQueueUrl }));
    } catch (error) {
      this.options.logger.warn(
        { responseQueueUrl: this.#responseQueueUrl, err: describeError(error) },
        'could not delete the response queue',
      );
    }
  }
}
