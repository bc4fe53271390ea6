import { AsyncMcpError, isDestinationGone } from '@asyncmcp/core';
import { describe, expect, it } from 'vitest';
import { classifyAwsError, classifySqsError, toAwsDeliveryError, toSqsDeliveryError } from './sqs-errors.js';

function awsError(name: string, status?: number, code?: string): Error {
  return Object.assign(new Error(`${name} happened`), { name, code, $metadata: { httpStatusCode: status } });
}

describe('SQS error classification', () => {
  it.each([
    ['QueueDoesNotExist', 400, 'missing-queue'],
    ['AWS.SimpleQueueService.NonExistentQueue', 400, 'missing-queue'],
    ['ThrottlingException', 400, 'throttled'],
    ['RequestThrottled', 403, 'throttled'],
    ['OverLimit', 403, 'throttled'],
    ['TimeoutError', undefined, 'unreachable'],
    ['InvalidParameterValue', 400, 'rejected'],
    ['InternalFailure', 500, 'other'],
  ])('%s (HTTP %s) is %s', (name, status, kind) => {
    expect(classifySqsError(awsError(name, status))).toBe(kind);
  });

  it('recognises a refused connection by its code', () => {
    expect(classifySqsError(awsError('Error', undefined, 'ECONNREFUSED'))).toBe('unreachable');
  });

  it('wraps errors in a retryable DeliveryError that names the operation and queue', () => {
    const error = toSqsDeliveryError(awsError('QueueDoesNotExist', 400), 'ReceiveMessage', 'https://q/1');
    expect(AsyncMcpError.isInstance(error)).toBe(true);
    expect(error.code).toBe('ASYNCMCP_DELIVERY_FAILED');
    expect(error.message).toBe('SQS ReceiveMessage failed: queue does not exist: https://q/1');
    expect(error.isRetryable).toBe(true);
    expect(error.cause).toBeInstanceOf(Error);
    const throttled = toSqsDeliveryError(awsError('ThrottlingException', 400), 'SendMessage', 'q');
    expect(throttled.message).toMatch(/^SQS SendMessage throttled on q: /);
    const rejected = toSqsDeliveryError(awsError('InvalidParameterValue', 400), 'SendMessage', 'q');
    expect(rejected.isRetryable).toBe(false);
  });

  it('says the destination is gone only when the queue does not exist', () => {
    expect(
      isDestinationGone(toSqsDeliveryError(awsError('QueueDoesNotExist', 400), 'SendMessage', 'q')),
    ).toBe(true);
    for (const name of ['ThrottlingException', 'InvalidParameterValue', 'InternalFailure', 'TimeoutError']) {
      expect(isDestinationGone(toSqsDeliveryError(awsError(name, 400), 'SendMessage', 'q'))).toBe(false);
    }
  });

  it('classifies another service’s errors with that service’s missing-resource names', () => {
    const missingTopic = new Set(['NotFound', 'NotFoundException']);
    expect(classifyAwsError(awsError('NotFoundException', 404), missingTopic)).toBe('missing-resource');
    // SNS spells throttling its own way; the shared set knows it.
    expect(classifyAwsError(awsError('ThrottledException', 400), missingTopic)).toBe('throttled');
    expect(classifyAwsError(awsError('Error', undefined, 'Throttling'), missingTopic)).toBe('throttled');
    // Without the service's names, a missing topic is just a refused request.
    expect(classifyAwsError(awsError('NotFoundException', 404))).toBe('rejected');
    const error = toAwsDeliveryError(awsError('NotFoundException', 404), {
      service: 'SNS',
      operation: 'Publish',
      resource: 'arn:aws:sns:us-east-1:1:t',
      resourceKind: 'topic',
      missingResourceNames: missingTopic,
    });
    expect(error.message).toBe('SNS Publish failed: topic does not exist: arn:aws:sns:us-east-1:1:t');
    expect(error.isRetryable).toBe(true);
    expect(error.destinationGone).toBe(true);
  });
});
