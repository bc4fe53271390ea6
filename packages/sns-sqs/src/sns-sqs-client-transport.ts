import { ConfigurationError, type Logger, MetaKey, silentLogger } from '@asyncmcp/core';
import { type SqsChannelClientTransportOptions, SqsClientTransport, sqsMessageSigning } from '@asyncmcp/sqs';
import { SnsPublisher } from './sns-publisher.js';
import type { SnsSqsRequestTopicOptions } from './sns-sqs-request-topic-options.js';
import { subscriptionConfirmer } from './sns-subscription-confirmer.js';

export interface SnsSqsClientTransportOptions extends SnsSqsRequestTopicOptions {
  /** This client's response topic; named to the server in `initialize` as `_meta.clientTopicArn`. */
  responseTopicArn: string;
  /** This client's queue, subscribed to `responseTopicArn` (raw delivery or not). */
  responseQueueUrl: string;
  /** Sent as `ClientId`. @default a random UUID */
  clientId?: string;
  /**
   * A session id to propose on `initialize`. Servers that adopt proposals (asyncmcp's, TypeScript and
   * Python, do) answer under it, so clients sharing one response topic can each subscribe with a filter
   * policy `{"SessionId": ["<this id>"]}`. @default none: the server picks the id
   */
  sessionId?: string;
  /**
   * Extra attributes on every message; at most 3 (1 with `signingSecret`), and no protocol attribute
   * names.
   */
  messageAttributes?: Record<string, string>;
  /** Size limit checked before publishing. @default 262144 (SNS) */
  maxMessageBytes?: number;
  logger?: Logger;
}

/**
 * An MCP client transport over SNS+SQS (PROTOCOL.md §2): `new Client(...).connect(new
 * SnsSqsClientTransport(...))`. Publishes every message to the server's request topic, names its own
 * response topic in `initialize`, and long-polls its queue subscribed to that topic, with or without
 * SNS envelopes. It is `SqsClientTransport` with SNS publishing as its request channel.
 */
export class SnsSqsClientTransport extends SqsClientTransport {
  constructor(options: SnsSqsClientTransportOptions) {
    super(toChannelOptions(options));
  }
}

function toChannelOptions(options: SnsSqsClientTransportOptions): SqsChannelClientTransportOptions {
  for (const name of ['requestTopicArn', 'responseTopicArn', 'responseQueueUrl'] as const) {
    if (!options[name]) throw new ConfigurationError(`SnsSqsClientTransport needs a ${name}`);
  }
  const {
    snsClient,
    requestTopicArn,
    responseTopicArn,
    maxMessageBytes,
    sessionId,
    confirmSubscriptions,
    confirmTopicArns,
    ...rest
  } = options;
  const publisher = new SnsPublisher(snsClient, { signer: sqsMessageSigning(options)?.signer });
  return {
    ...rest,
    proposedSessionId: sessionId,
    requestChannel: {
      meta: { [MetaKey.ClientTopicArn]: responseTopicArn },
      send: (outbound) =>
        publisher.publish({
          topicArn: requestTopicArn,
          body: outbound.body,
          attributes: outbound.attributes,
          groupId: outbound.groupId,
          maxMessageBytes,
        }),
    },
    // The queue is this client's alone, and a topic copies each message to every subscribed queue:
    // another session's message here is a copy nobody else will read, so releasing it would loop.
    otherSessionMessages: 'delete',
    onControlMessage: subscriptionConfirmer(
      snsClient,
      { confirmSubscriptions, confirmTopicArns },
      options.logger ?? silentLogger,
    ),
  };
}
