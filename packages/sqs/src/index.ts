export {
  assertQueueAllowed,
  assertTopicAllowed,
  type DestinationScope,
  type DestinationScopeOptions,
  destinationScopeOf,
  loggableUrl,
  queueRefusal,
  topicRefusal,
} from './response-destinations.js';
export {
  LEASE_TAG,
  type LeftoverQueue,
  MADE_BY_TAG,
  RESPONSE_QUEUE_LEASE,
  ResponseQueueLease,
  type ResponseQueueLeaseOptions,
} from './response-queue-lease.js';
export type {
  AwsBatchFailure,
  AwsMessageEntry,
  AwsMessageService,
  SignedBatchInput,
} from './signed-batch-sender.js';
export { isFifoDestination, SignedBatchSender } from './signed-batch-sender.js';
export {
  SnsEnvelopeUnwrapper,
  snsSignedContent,
  type UnwrappedBody,
  unwrapSnsEnvelope,
} from './sns-envelope.js';
export {
  fromSqsAttributes,
  type ReceivedSqsAttributes,
  type SqsMessageAttribute,
  type SqsMessageAttributes,
  sqsMessageSize,
  toSqsAttributes,
} from './sqs-attributes.js';
export { type SqsBackend, type SqsBackendOptions, type SqsBackendStats, sqsBackend } from './sqs-backend.js';
export {
  type SqsChannelBackend,
  type SqsChannelBackendOptions,
  sqsChannelBackend,
} from './sqs-channel-backend.js';
export type {
  OutboundMessage,
  SqsBackendChannel,
  SqsBackendChannelEndpoint,
  SqsControlMessage,
  SqsControlMessageHandler,
  SqsReplyChannel,
  SqsRequestChannel,
} from './sqs-channels.js';
export {
  type SqsChannelClientTransportOptions,
  SqsClientTransport,
  type SqsClientTransportOptions,
} from './sqs-client-transport.js';
export { AWS_CLIENT_DEFAULTS, SQS_WORKER_DEFAULTS } from './sqs-defaults.js';
export {
  type AwsFailureKind,
  classifyAwsError,
  classifySqsError,
  type SqsFailureKind,
  toAwsDeliveryError,
  toSqsDeliveryError,
} from './sqs-errors.js';
export {
  isFifoQueue,
  receivedSqsAttributes,
  SQS_MAX_MESSAGE_BYTES,
  type SqsQueueMessage,
  SqsQueueSource,
  SqsSender,
  type SqsSendInput,
} from './sqs-queue.js';
export { SqsSessionManager, type SqsSessionManagerOptions } from './sqs-session-manager.js';
export { readableQueue, type SqsSigningOptions, sqsMessageSigning } from './sqs-signing.js';
