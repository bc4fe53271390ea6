import type { Logger } from '@asyncmcp/core';
import type { SnsSqsRequestTopicOptions } from './sns-sqs-request-topic-options.js';

export interface SnsSqsBackendOptions extends SnsSqsRequestTopicOptions {
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
  /**
   * How long the queue this backend makes (and the topic or subscription it made with it) stays this
   * instance's without word from it, in whole seconds from `RESPONSE_QUEUE_LEASE.minSeconds` (60) to
   * `maxSeconds` (a week): a lease renewed every third of it (a queue tag) while it runs. A killed
   * instance cannot remove what it made; an instance that starts after the lease ran out removes it: the
   * queue, and the topic of the same name, or on a response topic it was given, the queue's
   * subscription. Only queues with the name prefix and the lease tag. Out of bounds, `snsSqsBackend()`
   * throws a `ConfigurationError`. @default RESPONSE_QUEUE_LEASE.seconds (900)
   */
  responseQueueLeaseSeconds?: number;
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
