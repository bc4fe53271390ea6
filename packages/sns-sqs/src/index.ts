/**
 * @asyncmcp/sns-sqs — MCP over Amazon SNS topics fanned out to SQS queues (PROTOCOL.md §2). Built on
 * `@asyncmcp/sqs`: the reading, delivery semantics and gateway correlation are that package's; this one
 * adds SNS publishing.
 */
export { classifySnsError, type SnsFailureKind, toSnsDeliveryError } from './sns-errors.js';
export { isFifoTopic, SNS_MAX_MESSAGE_BYTES, SnsPublisher, type SnsPublishInput } from './sns-publisher.js';
export { type SnsSqsBackend, type SnsSqsBackendOptions, snsSqsBackend } from './sns-sqs-backend.js';
export { SnsSqsClientTransport, type SnsSqsClientTransportOptions } from './sns-sqs-client-transport.js';
export type { SnsSqsRequestTopicOptions } from './sns-sqs-request-topic-options.js';
export { SnsSqsSessionManager, type SnsSqsSessionManagerOptions } from './sns-sqs-session-manager.js';
export type { SubscriptionConfirmationOptions } from './sns-subscription-confirmer.js';
