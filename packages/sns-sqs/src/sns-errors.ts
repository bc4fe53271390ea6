import type { DeliveryError } from '@asyncmcp/core';
import { type AwsFailureKind, classifyAwsError, toAwsDeliveryError } from '@asyncmcp/sqs';

/** Error names the AWS SDK gives a missing topic (or subscription). */
const MISSING_TOPIC: ReadonlySet<string> = new Set(['NotFound', 'NotFoundException']);

export type SnsFailureKind = Exclude<AwsFailureKind, 'missing-resource'> | 'missing-topic';

/** Sorts an AWS SDK error from an SNS call into the families an operator acts on differently. */
export function classifySnsError(error: unknown): SnsFailureKind {
  const kind = classifyAwsError(error, MISSING_TOPIC);
  return kind === 'missing-resource' ? 'missing-topic' : kind;
}

/** Wraps an AWS SDK error from an SNS call in a `DeliveryError` that names the operation and topic. */
export function toSnsDeliveryError(error: unknown, operation: string, topicArn: string): DeliveryError {
  return toAwsDeliveryError(error, {
    service: 'SNS',
    operation,
    resource: topicArn,
    resourceKind: 'topic',
    missingResourceNames: MISSING_TOPIC,
  });
}
