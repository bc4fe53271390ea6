import { DeliveryError, describeError } from '@asyncmcp/core';

/** Error names the AWS SDK gives a missing queue (JSON and query protocols spell it differently). */
const MISSING_QUEUE = new Set([
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'NonExistentQueue',
]);
const THROTTLED = new Set([
  'ThrottlingException',
  'RequestThrottled',
  'OverLimit',
  'KmsThrottled',
  'TooManyRequestsException',
]);
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
]);

export type SqsFailureKind = 'missing-queue' | 'throttled' | 'unreachable' | 'rejected' | 'other';

/** Sorts an AWS SDK error into the families an operator acts on differently. */
export function classifySqsError(error: unknown): SqsFailureKind {
  const record = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const name = typeof record.name === 'string' ? record.name : '';
  const code = typeof record.code === 'string' ? record.code : '';
  if (MISSING_QUEUE.has(name) || MISSING_QUEUE.has(code)) return 'missing-queue';
  if (THROTTLED.has(name) || THROTTLED.has(code)) return 'throttled';
  if (UNREACHABLE.has(code) || UNREACHABLE.has(name) || name === 'TimeoutError') return 'unreachable';
  const status = (record.$metadata as { httpStatusCode?: number } | undefined)?.httpStatusCode;
  if (status !== undefined && status >= 400 && status < 500) return 'rejected';
  return 'other';
}

/** Wraps an AWS SDK error in a `DeliveryError` whose message says what went wrong and where. */
export function toSqsDeliveryError(error: unknown, operation: string, queueUrl: string): DeliveryError {
  const kind = classifySqsError(error);
  const detail = describeError(error);
  const message =
    kind === 'missing-queue'
      ? `SQS ${operation} failed: queue does not exist: ${queueUrl}`
      : kind === 'throttled'
        ? `SQS ${operation} throttled on ${queueUrl}: ${detail}`
        : kind === 'unreachable'
          ? `SQS endpoint unreachable during ${operation} on ${queueUrl}: ${detail}`
          : `SQS ${operation} failed on ${queueUrl}: ${detail}`;
  return new DeliveryError({ message, cause: error, isRetryable: kind !== 'rejected' });
}
