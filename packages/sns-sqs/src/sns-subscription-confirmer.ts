import { ConfigurationError, type Disposition, describeError, type Logger } from '@asyncmcp/core';
import type { SqsControlMessage, SqsControlMessageHandler } from '@asyncmcp/sqs';
import { ConfirmSubscriptionCommand, type SNSClient } from '@aws-sdk/client-sns';
import { classifySnsError } from './sns-errors.js';

/** The options every SNS+SQS reader shares for SNS subscription confirmations. */
export interface SubscriptionConfirmationOptions {
  /**
   * Confirm the `SubscriptionConfirmation` messages that arrive on the queue this reader polls, with its
   * SNS client (`ConfirmSubscription`). Needed for a subscription of the queue to a topic of another
   * account, which stays pending until confirmed; AWS confirms same-account subscriptions itself. Off by
   * default: when on, any topic whose confirmation reaches the queue is confirmed and can publish into
   * it, so the queue policy is the only gate. @default false (confirmations are logged and deleted)
   */
  confirmSubscriptions?: boolean;
  /**
   * With `confirmSubscriptions`, confirm only subscriptions to these topics; the confirmations of other
   * topics are logged and deleted. @default every topic
   */
  confirmTopicArns?: readonly string[];
}

/**
 * Handles the SNS control messages an SNS+SQS reader finds on its queue: confirms subscriptions when
 * configured to (deleting the message only once confirmed), and logs and deletes everything else. A
 * confirmation that failed for a passing reason (throttling, an unreachable or failing endpoint) is
 * retried after the message's visibility timeout; one SNS refused (an expired or foreign token, a topic
 * that is gone, no permission) is deleted, since trying again cannot succeed.
 */
export function subscriptionConfirmer(
  snsClient: SNSClient,
  options: SubscriptionConfirmationOptions,
  logger: Logger,
): SqsControlMessageHandler {
  if (options.confirmTopicArns !== undefined && !options.confirmSubscriptions) {
    throw new ConfigurationError('confirmTopicArns needs confirmSubscriptions: true');
  }
  const allowed = options.confirmTopicArns ? new Set(options.confirmTopicArns) : undefined;
  return async (control: SqsControlMessage): Promise<Disposition> => {
    const { topicArn } = control;
    if (
      control.kind !== 'subscription-confirmation' ||
      !options.confirmSubscriptions ||
      (allowed !== undefined && (topicArn === undefined || !allowed.has(topicArn)))
    ) {
      logger.info({ kind: control.kind, topicArn }, 'SNS control message deleted');
      return 'delete';
    }
    if (topicArn === undefined || control.token === undefined) {
      logger.warn(
        { kind: control.kind, topicArn },
        'SNS subscription confirmation without a topic or token deleted',
      );
      return 'delete';
    }
    try {
      const confirmed = await snsClient.send(
        new ConfirmSubscriptionCommand({ TopicArn: topicArn, Token: control.token }),
      );
      logger.info({ topicArn, subscriptionArn: confirmed.SubscriptionArn }, 'SNS subscription confirmed');
      return 'delete';
    } catch (error) {
      const kind = classifySnsError(error);
      if (kind === 'rejected' || kind === 'missing-topic') {
        logger.warn(
          { topicArn, err: describeError(error) },
          'SNS refused to confirm the subscription; the confirmation is deleted, as trying again cannot succeed',
        );
        return 'delete';
      }
      logger.warn(
        { topicArn, err: describeError(error) },
        'could not confirm an SNS subscription; it will be retried after its visibility timeout',
      );
      return 'retry';
    }
  };
}
