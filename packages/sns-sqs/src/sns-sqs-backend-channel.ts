import { randomBytes } from 'node:crypto';
import { ConfigurationError, describeError, generateSessionId, type Logger, MetaKey } from '@asyncmcp/core';
import {
  type LeftoverQueue,
  type OutboundMessage,
  ResponseQueueLease,
  type SqsBackendChannel,
  type SqsBackendChannelEndpoint,
  sqsMessageSigning,
  toSqsDeliveryError,
} from '@asyncmcp/sqs';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { classifySnsError, toSnsDeliveryError } from './sns-errors.js';
import { SnsPublisher } from './sns-publisher.js';
import type { SnsSqsBackendOptions } from './sns-sqs-backend-options.js';

export type SnsSqsBackendChannelOptions = SnsSqsBackendOptions & { instanceId: string; logger: Logger };

/** Most pages of a shared response topic's subscriptions one sweep reads to find a leftover queue's. */
const SUBSCRIPTION_PAGES = 20;

/**
 * Publishes to the request topic; answers come back on a queue subscribed to the response topic. Makes
 * whatever of topic, queue and subscription it was not given, remembers what it made (so a failed
 * `open()` continues where it stopped), and removes exactly that on `close()`. A queue it makes holds a
 * lease, so that what a killed instance made is removed by the next one to start once the lease ran out.
 */
export class SnsSqsBackendChannel implements SqsBackendChannel {
  readonly instanceId: string;
  readonly #options: SnsSqsBackendChannelOptions;
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
  readonly #prefix: string;
  /** The lease on the queue this channel made, and the sweep of what killed instances left. */
  readonly #lease: ResponseQueueLease;

  constructor(options: SnsSqsBackendChannelOptions) {
    this.#options = options;
    this.instanceId = options.instanceId;
    this.#prefix = options.resourceNamePrefix ?? 'asyncmcp-gateway-';
    this.#name = `${this.#prefix}${options.instanceId}-${randomBytes(3).toString('hex')}`;
    this.#logger = options.logger;
    this.#lease = new ResponseQueueLease({
      sqsClient: options.sqsClient,
      namePrefix: this.#prefix,
      madeBy: 'sns-sqs',
      leaseSeconds: options.responseQueueLeaseSeconds,
      logger: options.logger,
      removeAlongside: (leftover) => this.#removeAlongside(leftover),
    });
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
      const created = snsClient.send(new CreateTopicCommand({ Name: name }));
      this.#topicArn = (
        await made(created, (error) => toSnsDeliveryError(error, 'CreateTopic', name))
      ).TopicArn;
      this.#createdTopic = true;
      this.#logger.info({ responseTopicArn: this.#topicArn }, 'created the gateway response topic');
    }
    if (this.#queueUrl === undefined) {
      const created = sqsClient.send(new CreateQueueCommand({ QueueName: name, tags: this.#lease.tags() }));
      this.#queueUrl = (
        await made(created, (error) => toSqsDeliveryError(error, 'CreateQueue', name))
      ).QueueUrl;
      this.#createdQueue = true;
      this.#logger.info({ responseQueueUrl: this.#queueUrl }, 'created the gateway response queue');
    }
    const topicArn = this.#topicArn as string;
    const queueUrl = this.#queueUrl as string;
    // Given both, the subscription is the operator's; otherwise one of them is new and needs one.
    if ((this.#createdTopic || this.#createdQueue) && this.#subscriptionArn === undefined) {
      await this.#subscribe(topicArn, queueUrl);
    }
    if (this.#createdQueue) {
      this.#lease.keep(queueUrl);
      // What killed instances made is nobody's: the first instance to start after their lease ran out
      // removes it, without holding up this one's start.
      void this.#lease.sweep(queueUrl);
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
        await sqsClient.send(new CreateQueueCommand({ QueueName: this.#name, tags: this.#lease.tags() }));
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

  /**
   * Removes what the instance that made `leftover` made with it: the topic of the same name, or on a
   * response topic this instance was given (one the fleet shares), the leftover queue's subscription to
   * it. A leftover with no topic of its name (an sqs gateway's of the same prefix, made before queues
   * named their maker) costs one lookup and deletes nothing.
   */
  async #removeAlongside({ queueUrl, queueName }: LeftoverQueue): Promise<void> {
    const { snsClient, sqsClient, responseTopicArn, requestTopicArn } = this.#options;
    if (responseTopicArn === undefined) {
      // The same account and region as the request topic: `arn:aws:sns:<region>:<account>:<name>`.
      const TopicArn = `${requestTopicArn.slice(0, requestTopicArn.lastIndexOf(':') + 1)}${queueName}`;
      // DeleteTopic succeeds on a topic that is not there: asked first, so that only a topic that was
      // there is logged as deleted (an sqs gateway's leftover of the same prefix, made before queues
      // named their maker, has none).
      const found = await snsClient.send(new GetTopicAttributesCommand({ TopicArn })).then(
        () => true,
        (error: unknown) => {
          if (classifySnsError(error) === 'missing-topic') return false;
          throw error;
        },
      );
      if (!found) return;
      await snsClient.send(new DeleteTopicCommand({ TopicArn }));
      this.#logger.info(
        { responseTopicArn: TopicArn },
        'deleted the response topic of a gateway instance that stopped without removing it',
      );
      return;
    }
    const { Attributes } = await sqsClient.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueArn = Attributes?.QueueArn;
    if (!queueArn) throw new ConfigurationError(`The queue ${queueUrl} did not say its ARN`);
    let NextToken: string | undefined;
    for (let page = 0; page < SUBSCRIPTION_PAGES; page++) {
      const listed = await snsClient.send(
        new ListSubscriptionsByTopicCommand({ TopicArn: responseTopicArn, NextToken }),
      );
      const found = listed.Subscriptions?.find((subscription) => subscription.Endpoint === queueArn);
      if (found?.SubscriptionArn) {
        await snsClient.send(new UnsubscribeCommand({ SubscriptionArn: found.SubscriptionArn }));
        this.#logger.info(
          { responseTopicArn, subscriptionArn: found.SubscriptionArn },
          'removed the subscription of a gateway instance that stopped without removing it',
        );
        return;
      }
      NextToken = listed.NextToken;
      if (!NextToken) return;
    }
  }

  async close(): Promise<void> {
    this.#lease.stop();
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

/** What a create call resolved with, or its failure in the words of the service that refused. */
async function made<T>(call: Promise<T>, failure: (error: unknown) => Error): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw failure(error);
  }
}
