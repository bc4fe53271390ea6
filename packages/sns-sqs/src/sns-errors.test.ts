import { AsyncMcpError } from '@asyncmcp/core';
import { describe, expect, it } from 'vitest';
import { classifySnsError, type SnsFailureKind, toSnsDeliveryError } from './sns-errors.js';

function awsError(name: string, status?: number, code?: string): Error {
  return Object.assign(new Error(`${name} happened`), { name, code, $metadata: { httpStatusCode: status } });
}

/** SNS's own error names, and what each is to an operator; the rest of the sorting is `@asyncmcp/sqs`'s. */
const KINDS: ReadonlyArray<{ name: string; status?: number; kind: SnsFailureKind }> = [
  { name: 'NotFound', status: 404, kind: 'missing-topic' },
  { name: 'NotFoundException', status: 404, kind: 'missing-topic' },
  { name: 'ThrottledException', status: 400, kind: 'throttled' },
  { name: 'Throttling', status: 400, kind: 'throttled' },
  { name: 'TimeoutError', kind: 'unreachable' },
  { name: 'InvalidParameter', status: 400, kind: 'rejected' },
  { name: 'AuthorizationError', status: 403, kind: 'rejected' },
  { name: 'InternalError', status: 500, kind: 'other' },
];

describe('SNS error classification', () => {
  it('sorts SNS errors by name and status into the families an operator acts on', () => {
    for (const { name, status, kind } of KINDS)
      expect(classifySnsError(awsError(name, status)), name).toBe(kind);
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
