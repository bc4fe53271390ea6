import { AsyncMcpError } from '@asyncmcp/core';
import { describe, expect, it } from 'vitest';
import { classifySnsError, toSnsDeliveryError } from './sns-errors.js';

function awsError(name: string, status?: number, code?: string): Error {
  return Object.assign(new Error(`${name} happened`), { name, code, $metadata: { httpStatusCode: status } });
}

describe('SNS error classification', () => {
  it.each([
    ['NotFound', 404, 'missing-topic'],
    ['NotFoundException', 404, 'missing-topic'],
    ['ThrottledException', 400, 'throttled'],
    ['Throttling', 400, 'throttled'],
    ['TimeoutError', undefined, 'unreachable'],
    ['InvalidParameter', 400, 'rejected'],
    ['AuthorizationError', 403, 'rejected'],
    ['InternalError', 500, 'other'],
  ])('%s (HTTP %s) is %s', (name, status, kind) => {
    expect(classifySnsError(awsError(name, status))).toBe(kind);
  });

  it('recognises a refused connection by its code', () => {
    expect(classifySnsError(awsError('Error', undefined, 'ECONNREFUSED'))).toBe('unreachable');
  });

  it('wraps errors in a DeliveryError that names the operation and topic', () => {
    const missing = toSnsDeliveryError(awsError('NotFound', 404), 'Publish', 'arn:aws:sns:us-east-1:1:t');
    expect(AsyncMcpError.isInstance(missing)).toBe(true);
    expect(missing.code).toBe('ASYNCMCP_DELIVERY_FAILED');
    expect(missing.message).toBe('SNS Publish failed: topic does not exist: arn:aws:sns:us-east-1:1:t');
    expect(missing.isRetryable).toBe(true);
    expect(missing.cause).toBeInstanceOf(Error);
    const down = toSnsDeliveryError(awsError('Error', undefined, 'ECONNREFUSED'), 'Publish', 'arn:t');
    expect(down.message).toMatch(/^SNS endpoint unreachable during Publish on arn:t: /);
    // A refused request fails the same way every time: not worth retrying.
    expect(toSnsDeliveryError(awsError('InvalidParameter', 400), 'Publish', 'arn:t').isRetryable).toBe(false);
  });
});
