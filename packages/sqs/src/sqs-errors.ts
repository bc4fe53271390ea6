import { DeliveryError, describeError } from '@asyncmcp/core';

/** Error names the AWS SDK gives a missing queue (JSON and query protocols spell it differently). */
const MISSING_QUEUE: ReadonlySet<string> = new Set([
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'NonExistentQueue',
]);
// SQS and SNS spell throttling differently; one set serves both, as no name means anything else in either.
const THROTTLED = new Set([
  'ThrottlingException',
  'RequestThrottled',
  'OverLimit',
  'KmsThrottled',
  'TooManyRequestsException',
  'ThrottledException',
  'Throttled',
  'Throttling',
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

/** The failure families of any AWS messaging call; `missing-resource` is a queue, topic … that does not exist. */
export type AwsFailureKind = 'missing-resource' | 'throttled' | 'unreachable' | 'rejected' | 'other';

/**
 * Sorts an AWS SDK error into the families an operator acts on differently. `missingResourceNames` are
 * the error names by which the service says the resource is missing (SQS and SNS name it differently).
 */
export function classifyAwsError(
  error: unknown,
  missingResourceNames: ReadonlySet<string> = MISSING_QUEUE,
): AwsFailureKind {
  const record = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const name = typeof record.name === 'string' ? record.name : '';
  const code = typeof record.code === 'string' ? record.code : '';
  if (missingResourceNames.has(name) || missingResourceNames.has(code)) return 'missing-resource';
  if (THROTTLED.has(name) || THROTTLED.has(code)) return 'throttled';
  if (UNREACHABLE.has(code) || UNREACHABLE.has(name) || name === 'TimeoutError') return 'unreachable';
  const status = (record.$metadata as { httpStatusCode?: number } | undefined)?.httpStatusCode;
  if (status !== undefined && status >= 400 && status < 500) return 'rejected';
  return 'other';
}

/** Sorts an AWS SDK error from an SQS call into the families an operator acts on differently. */
export function classifySqsError(error: unknown): SqsFailureKind {
  const kind = classifyAwsError(error, MISSING_QUEUE);
  return kind === 'missing-resource' ? 'missing-queue' : kind;
}

/**
 * Wraps an AWS SDK error in a `DeliveryError` whose message says what went wrong and where, e.g.
 * `SNS endpoint unreachable during Publish on arn:…`. Only a request the service refused as invalid
 * is not retryable: repeating it would fail the same way.
 */
export function toAwsDeliveryError(
  error: unknown,
  input: {
    service: string;
    operation: string;
    /** The queue URL or topic ARN the call was about. */
    resource: string;
    /** What a missing resource is called in the message, e.g. `queue` or `topic`. */
    resourceKind: string;
    missingResourceNames: ReadonlySet<string>;
  },
): DeliveryError {
  const { service, operation, resource, resourceKind } = input;
  const kind = classifyAwsError(error, input.missingResourceNames);
  const detail = describeError(error);
  const message =
    kind === 'missing-resource'
      ? `${service} ${operation} failed: ${resourceKind} does not exist: ${resource}`
      : kind === 'throttled'
        ? `${service} ${operation} throttled on ${resource}: ${detail}`
        : kind === 'unreachable'
          ? `${service} endpoint unreachable during ${operation} on ${resource}: ${detail}`
          : `${service} ${operation} failed on ${resource}: ${detail}`;
  return new DeliveryError({
    message,
    cause: error,
    isRetryable: kind !== 'rejected',
    destinationGone: kind === 'missing-resource',
  });
}

/** Wraps an AWS SDK error from an SQS call in a `DeliveryError` that names the operation and queue. */
export function toSqsDeliveryError(error: unknown, operation: string, queueUrl: string): DeliveryError {
  return toAwsDeliveryError(error, {
    service: 'SQS',
    operation,
    resource: queueUrl,
    resourceKind: 'queue',
    missingResourceNames: MISSING_QUEUE,
  });
}
