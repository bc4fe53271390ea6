export { type SqsBackend, type SqsBackendOptions, type SqsBackendStats, sqsBackend } from './sqs-backend.js';
export { SqsClientTransport, type SqsClientTransportOptions } from './sqs-client-transport.js';
export { classifySqsError, type SqsFailureKind, toSqsDeliveryError } from './sqs-errors.js';
export {
  isFifoQueue,
  SQS_MAX_MESSAGE_BYTES,
  SqsQueueSource,
  SqsSender,
  sqsMessageSize,
} from './sqs-queue.js';
export { SqsSessionManager, type SqsSessionManagerOptions } from './sqs-session-manager.js';
