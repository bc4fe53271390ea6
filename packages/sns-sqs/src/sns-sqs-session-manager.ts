import { ConfigurationError, type MessageSigner, MetaKey, readMeta, silentLogger } from '@asyncmcp/core';
import {
  type SqsReplyChannel,
  SqsSessionManager,
  type SqsSessionManagerOptions,
  sqsMessageSigning,
  topicRefusal,
} from '@asyncmcp/sqs';
import type { SNSClient } from '@aws-sdk/client-sns';
import { SnsPublisher } from './sns-publisher.js';
import { type SubscriptionConfirmationOptions, subscriptionConfirmer } from './sns-subscription-confirmer.js';

export interface SnsSqsSessionManagerOptions
  extends Omit<
      SqsSessionManagerOptions,
      'replyChannel' | 'maxMessageBytes' | 'onControlMessage' | 'bindSessionsToSender'
    >,
    SubscriptionConfirmationOptions {
  /** Publishes to each session's response topic. */
  snsClient: SNSClient;
  /** Size limit checked before publishing to a client. @default 262144 (SNS) */
  maxMessageBytes?: number;
}

/**
 * The server side of MCP over SNS+SQS (PROTOCOL.md §2): long-polls the queue subscribed to the request
 * topic (SNS envelopes or raw delivery), opens one session per `initialize` that names its
 * `_meta.clientTopicArn`, and publishes each session's traffic to that topic — a topic in the request
 * queue's account and region, or one `allowedResponseDestinations` names; others are refused. It is `SqsSessionManager`
 * with SNS publishing as its reply channel, so delivery is the same: a request is deleted once its
 * answer is published, long requests keep their visibility, redelivered requests run once, oversize
 * answers become JSON-RPC errors, poison goes to the dead-letter queue, and SNS subscription
 * confirmations are logged and deleted (or confirmed, with `confirmSubscriptions`).
 */
export class SnsSqsSessionManager extends SqsSessionManager {
  constructor(options: SnsSqsSessionManagerOptions) {
    super(toSqsOptions(options));
  }
}

function toSqsOptions(options: SnsSqsSessionManagerOptions): SqsSessionManagerOptions {
  if (!options.requestQueueUrl) throw new ConfigurationError('SnsSqsSessionManager needs a requestQueueUrl');
  if (!options.snsClient) throw new ConfigurationError('SnsSqsSessionManager needs an snsClient');
  if (typeof options.createServer !== 'function')
    throw new ConfigurationError('SnsSqsSessionManager needs createServer');
  const { snsClient, maxMessageBytes, confirmSubscriptions, confirmTopicArns, ...rest } = options;
  return {
    ...rest,
    replyChannel: snsReplyChannel(snsClient, maxMessageBytes, sqsMessageSigning(options)?.signer),
    onControlMessage: subscriptionConfirmer(
      snsClient,
      { confirmSubscriptions, confirmTopicArns },
      options.logger ?? silentLogger,
    ),
  };
}

/** Answers each session on the topic its client named in `_meta.clientTopicArn`. */
function snsReplyChannel(
  snsClient: SNSClient,
  maxMessageBytes: number | undefined,
  signer: MessageSigner | undefined,
): SqsReplyChannel {
  const publisher = new SnsPublisher(snsClient, { signer });
  return {
    addressDescription: `_meta.${MetaKey.ClientTopicArn}`,
    addressOf: (initialize) => readMeta(initialize, MetaKey.ClientTopicArn),
    // A topic in the request queue's account and region, or one `allowedResponseDestinations` names.
    destinationRefusal: topicRefusal,
    send: (outbound, topicArn) =>
      publisher.publish({
        topicArn,
        body: outbound.body,
        attributes: outbound.attributes,
        groupId: outbound.groupId,
        maxMessageBytes,
      }),
  };
}
