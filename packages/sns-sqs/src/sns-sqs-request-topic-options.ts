import type { QueuePollingOptions } from '@asyncmcp/core';
import type { SqsSigningOptions } from '@asyncmcp/sqs';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SubscriptionConfirmationOptions } from './sns-subscription-confirmer.js';

/** What every SNS+SQS client and gateway backend is given: its two AWS clients and the server's topic. */
export interface SnsSqsRequestTopicOptions
  extends SubscriptionConfirmationOptions,
    SqsSigningOptions,
    QueuePollingOptions {
  /** Publishes to the request topic; a backend also creates and removes the response topic it makes. */
  snsClient: SNSClient;
  /** Reads the response queue; a backend also creates and removes the queue it makes. */
  sqsClient: SQSClient;
  /** The request topic of the async MCP server(s); every client publishes there. */
  requestTopicArn: string;
}
