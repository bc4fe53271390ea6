import { AsyncMcpError } from '@asyncmcp/core';
import { describe, expect, it } from 'vitest';
import { classifySqsError, toSqsDeliveryError } from './sqs-errors.js';

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
});
