import { randomBytes } from 'node:crypto';
import {
  type BackendFleet,
  type BackendTransportContext,
  ConfigurationError,
  describeError,
  generateSessionId,
  type Logger,
  MetaKey,
  pickQueuePolling,
  type QueuePollingOptions,
  silentLogger,
  type Transport,
} from '@asyncmcp/core';
import {
  type OutboundMessage,
  type SqsBackendChannel,
  type SqsBackendChannelEndpoint,
  type SqsBackendStats,
  type SqsChannelBackend,
  type SqsSigningOptions,
  sqsChannelBackend,
  sqsMessageSigning,
  toSqsDeliveryError,
} from '@asyncmcp/sqs';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  type SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { toSnsDeliveryError } from './sns-errors.js';
import { SnsPublisher } from './sns-publisher.js';
import { type SubscriptionConfirmationOptions, subscriptionConfirmer } from './sns-subscription-confirmer.js';

export interface SnsSqsBackendOptions
  extends SubscriptionConfirmationOptions,
    SqsSigningOptions,
    QueuePollingOptions {
  /** Publishes to the request topic; creates and removes the response topic when it makes one. */
  snsClient: SNSClient;
  /** Reads the response queue; creates and removes it when it makes one. */
  sqsClient: SQSClient;
  /** The request topic of the async MCP server(s) the gateway forwards to. */
  requestTopicArn: string;
  /**
   * The topic servers publish this gateway's answers to, named in every `initialize` as
   * `_meta.clientTopicArn`. When omitted, the backend creates a topic of its own on first use and
   * deletes it on `close()`.
   */
  responseTopicArn?: string;
  /**
   * The one queue the backend reads, subscribed to the response topic. When omitted, the backend creates
   * a queue, lets only the response topic send to it, subscribes it, and removes all three on `close()`.
   * On a topic it was given (one several gateway instances may share) that subscription carries a
   * filter policy on this instance's session ids, so only this instance's traffic arrives.
   */
  responseQueueUrl?: string;
  /**
   * Names this gateway instance: every session id it proposes is `<instanceId>.<gateway session key>`,
   * which is what the filter policy of its subscription matches. Letters, digits, `-` and `_`.
   * @default 8 random hex characters
   */
  instanceId?: string;
  /** Name prefix of the topic and queue the backend creates. @default 'asyncmcp-gateway-' */
  resourceNamePrefix?: string;
  /** Raw message delivery on the subscription the backend creates (no SNS envelope). @default true */
  rawMessageDelivery?: boolean;
  /** Sent as `ClientId` on every message. @default 'asyncmcp-gateway-' plus random hex */
  clientId?: string;
  /** Extra attributes on every message; at most 3 (1 with `signingSecret`). */
  messageAttributes?: Record<string, string>;
  /** Size limit checked before publishing. @default 262144 (SNS) */
  maxMessageBytes?: number;
  logger?: Logger;
}

export interface SnsSqsBackend extends SqsChannelBackend<'sns-sqs'> {
  /** The response topic in use: the one given, or once started, the one created. */
  readonly responseTopicArn: string | undefined;
  /** The prefix of every session id this backend proposes. */
  readonly instanceId: string;
}

const INSTANCE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The gateway backend over SNS+SQS (PROTOCOL.md §2, §7): publishes every session's messages to the
 * servers' request topic and reads every answer from ONE queue subscribed to its response topic, routing
 * each to its session exactly as `sqsBackend` does (gateway-unique request ids, then session ids).
 */
export function snsSqsBackend(options: SnsSqsBackendOptions): SnsSqsBackend {
  if (!options.requestTopicArn) throw new ConfigurationError('snsSqsBackend needs a requestTopicArn');
  const instanceId = options.instanceId ?? randomBytes(4).toString('hex');
  if (!INSTANCE_ID.test(instanceId)) {
    throw new ConfigurationError(
      `snsSqsBackend instanceId "${instanceId}" must be 1-64 letters, digits, "-" or "_"`,
    );
  }
  const logger = options.logger ?? silentLogger;
  const channel = new SnsSqsBackendChannel({ ...options, instanceId, logger });
  const backend = sqsChannelBackend({
    name: 'sns-sqs',
    sqsClient: options.sqsClient,
    channel,
    clientId: options.clientId,
    ...pickQueuePolling(options),
    messageAttributes: options.messageAttributes,
    signingSecret: options.signingSecret,
    signatureToleranceSeconds: options.signatureToleranceSeconds,
    onControlMessage: subscriptionConfirmer(options.snsClient, options, logger),
    logger,
  });
  return new SnsSqsBackendImpl(backend, channel);
}

/** The generic SQS-reading backend, with what only the SNS channel knows added. */
class SnsSqsBackendImpl implements SnsSqsBackend {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'sns-sqs' as const;

  constructor(
    private readonly backend: SqsChannelBackend<'sns-sqs'>,
    private readonly channel: SnsSqsBackendChannel,
  ) {}

  get responseTopicArn(): string | undefined {
    return this.channel.topicArn;
  }

  get instanceId(): string {
    return this.channel.instanceId;
  }

  get responseQueueUrl(): string | undefined {
    return this.backend.responseQueueUrl;
  }

  get stats(): SqsBackendStats {
    return this.backend.stats;
  }

  get fleet(): BackendFleet | undefined {
    return this.backend.fleet;
  }

  start(): Promise<void> {
    return this.backend.start();
  }

  createTransport(context: BackendTransportContext): Promise<Transport> {
    return Promise.resolve(this.backend.createTransport(context));
  }

  checkReady(): Promise<void> {
    return this.backend.checkReady();
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}

type ChannelOptions = SnsSqsBackendOptions & { instanceId: string; logger: Logger };

/**
 * Publishes to the request topic; answers come back on a queue subscribed to the response topic. Makes
 * whatever of topic, queue and subscription it was not given, remembers what it made (so a failed
 * `open()` continues where it stopped), and removes exactly that on `close()`.
 */
class SnsSqsBackendChannel implements SqsBackendChannel {
  readonly instanceId: string;
  readonly #options: ChannelOptions;
  readonly #publisher: SnsPublisher;
  readonly #logger: Logger;
  #topicArn: string | undefined;
  #queueUrl: string | undefined;
  #createdTopic = false;
  #createdQueue = false;
  #queuePolicySet = false;
  #subscriptionArn: string | undefined;
  /** The name of the topic and queue this channel makes, when it makes them. */
  readonly #name: string;

  constructor(options: ChannelOptions) {
    this.#options = options;
    this.instanceId = options.instanceId;
    this.#name = `${options.resourceNamePrefix ?? 'asyncmcp-gateway-'}${options.instanceId}-${randomBytes(3).toString('hex')}`;
    this.#logger = options.logger;
    this.#publisher = new SnsPublisher(options.snsClient, { signer: sqsMessageSigning(options)?.signer });
    this.#topicArn = options.responseTopicArn;
    this.#queueUrl = options.responseQueueUrl;
    this.proposeSessionId =
      options.responseTopicArn === undefined
        ? undefined
        : () => `${this.instanceId}.${generateSessionId('hex')}`;
  }

  get topicArn(): string | undefined {
    return this.#topicArn;
  }

  /**
   * On a response topic shared with other instances, the instance prefix routes a session's answers to
   * this instance's queue (the rest is a fresh secret), which ties the session to this instance. On a
   * topic of its own, each request names it, so the session ids are the fleet's and any instance serves
   * any session (PROTOCOL.md §7b).
   */
  readonly proposeSessionId: (() => string) | undefined;

  async open(): Promise<SqsBackendChannelEndpoint> {
    const { snsClient, sqsClient } = this.#options;
    const name = this.#name;
    if (this.#topicArn === undefined) {
      try {
        const created = await snsClient.send(new CreateTopicCommand({ Name: name }));
        this.#topicArn = created.TopicArn;
      } catch (error) {
        throw toSnsDeliveryError(error, 'CreateTopic', name);
      }
      this.#createdTopic = true;
      this.#logger.info({ responseTopicArn: this.#topicArn }, 'created the gateway response topic');
    }
    if (this.#queueUrl === undefined) {
      try {
        const created = await sqsClient.send(new CreateQueueCommand({ QueueName: name }));
        this.#queueUrl = created.QueueUrl;
      } catch (error) {
        throw toSqsDeliveryError(error, 'CreateQueue', name);
      }
      this.#createdQueue = true;
      this.#logger.info({ responseQueueUrl: this.#queueUrl }, 'created the gateway response queue');
    }
    const topicArn = this.#topicArn as string;
    const queueUrl = this.#queueUrl as string;
    // Given both, the subscription is the operator's; otherwise one of them is new and needs one.
    if ((this.#createdTopic || this.#createdQueue) && this.#subscriptionArn === undefined) {
      await this.#subscribe(topicArn, queueUrl);
    }
    return { responseQueueUrl: queueUrl, meta: { [MetaKey.ClientTopicArn]: topicArn } };
  }

  /**
   * Makes the topic and queue this channel made again, under the same names (same ARN and URL), with the
   * queue's policy and the subscription: the queue service lost them, or someone deleted them.
   */
  async remake(): Promise<void> {
    if (!this.#createdTopic && !this.#createdQueue) return;
    const { snsClient, sqsClient } = this.#options;
    if (this.#createdTopic) {
      try {
        await snsClient.send(new CreateTopicCommand({ Name: this.#name }));
      } catch (error) {
        throw toSnsDeliveryError(error, 'CreateTopic', this.#name);
      }
    }
    if (this.#createdQueue) {
      try {
        await sqsClient.send(new CreateQueueCommand({ QueueName: this.#name }));
      } catch (error) {
        throw toSqsDeliveryError(error, 'CreateQueue', this.#name);
      }
    }
    this.#queuePolicySet = false;
    this.#subscriptionArn = undefined;
    await this.#subscribe(this.#topicArn as string, this.#queueUrl as string);
  }

  async #subscribe(topicArn: string, queueUrl: string): Promise<void> {
    const { snsClient, sqsClient } = this.#options;
    let queueArn: string | undefined;
    try {
      const { Attributes } = await sqsClient.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
      );
      queueArn = Attributes?.QueueArn;
    } catch (error) {
      throw toSqsDeliveryError(error, 'GetQueueAttributes', queueUrl);
    }
    if (!queueArn) throw new ConfigurationError(`The queue ${queueUrl} did not say its ARN`);
    if (this.#createdQueue && !this.#queuePolicySet) {
      // SNS may deliver only to a queue whose policy lets the topic send; this one lets nothing else.
      try {
        await sqsClient.send(
          new SetQueueAttributesCommand({
            QueueUrl: queueUrl,
            Attributes: { Policy: JSON.stringify(topicOnlyPolicy(queueArn, topicArn)) },
          }),
        );
      } catch (error) {
        throw toSqsDeliveryError(error, 'SetQueueAttributes', queueUrl);
      }
      this.#queuePolicySet = true;
    }
    const attributes: Record<string, string> = {
      RawMessageDelivery: String(this.#options.rawMessageDelivery ?? true),
    };
    // A topic this backend did not make may be shared by several gateway instances, each with a queue
    // of its own: the filter keeps the other instances' sessions out of this queue.
    if (!this.#createdTopic) attributes.FilterPolicy = JSON.stringify(this.filterPolicy);
    try {
      const subscribed = await snsClient.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'sqs',
          Endpoint: queueArn,
          Attributes: attributes,
          ReturnSubscriptionArn: true,
        }),
      );
      this.#subscriptionArn = subscribed.SubscriptionArn;
    } catch (error) {
      throw toSnsDeliveryError(error, 'Subscribe', topicArn);
    }
    this.#logger.info(
      { responseTopicArn: topicArn, responseQueueUrl: queueUrl, subscriptionArn: this.#subscriptionArn },
      'subscribed the gateway response queue to its topic',
    );
  }

  /** Matches the session ids this instance proposes (servers that adopt proposals answer under them). */
  get filterPolicy(): Record<string, unknown> {
    return { SessionId: [{ prefix: `${this.instanceId}.` }] };
  }

  send(outbound: OutboundMessage): Promise<void> {
    return this.#publisher.publish({
      topicArn: this.#options.requestTopicArn,
      body: outbound.body,
      attributes: outbound.attributes,
      groupId: outbound.groupId,
      maxMessageBytes: this.#options.maxMessageBytes,
    });
  }

  async checkReady(): Promise<void> {
    try {
      await this.#options.snsClient.send(
        new GetTopicAttributesCommand({ TopicArn: this.#options.requestTopicArn }),
      );
    } catch (error) {
      throw toSnsDeliveryError(error, 'GetTopicAttributes', this.#options.requestTopicArn);
    }
  }

  async close(): Promise<void> {
    const { snsClient, sqsClient } = this.#options;
    if (this.#subscriptionArn !== undefined) {
      const SubscriptionArn = this.#subscriptionArn;
      await this.#attempt('could not remove the response subscription', { SubscriptionArn }, () =>
        snsClient.send(new UnsubscribeCommand({ SubscriptionArn })),
      );
    }
    if (this.#createdQueue && this.#queueUrl !== undefined) {
      const QueueUrl = this.#queueUrl;
      await this.#attempt('could not delete the response queue', { responseQueueUrl: QueueUrl }, () =>
        sqsClient.send(new DeleteQueueCommand({ QueueUrl })),
      );
    }
    if (this.#createdTopic && this.#topicArn !== undefined) {
      const TopicArn = this.#topicArn;
      await this.#attempt('could not delete the response topic', { responseTopicArn: TopicArn }, () =>
        snsClient.send(new DeleteTopicCommand({ TopicArn })),
      );
    }
  }

  /** Clean-up is best effort: what cannot be removed is logged for the operator, never thrown. */
  async #attempt(
    what: string,
    fields: Record<string, unknown>,
    action: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.#logger.warn({ ...fields, err: describeError(error) }, what);
    }
  }
}

/** A queue policy that lets exactly one topic send to the queue. */
function topicOnlyPolicy(queueArn: string, topicArn: string): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'asyncmcp-gateway-response-topic',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      },
    ],
  };
}
