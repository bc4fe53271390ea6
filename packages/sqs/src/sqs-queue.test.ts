import { describe, expect, it } from 'vitest';
import { isFifoQueue, sqsMessageSize } from './sqs-queue.js';

describe('SQS queue helpers', () => {
  it('counts body and attribute names, types and values in UTF-8 bytes', () => {
    expect(sqsMessageSize('é', {})).toBe(2);
    expect(sqsMessageSize('{}', { SessionId: { DataType: 'String', StringValue: 'abc' } })).toBe(
      2 + 9 + 6 + 3,
    );
  });

  it('recognises FIFO queues by the .fifo suffix', () => {
    expect(isFifoQueue('https://sqs.eu-west-1.amazonaws.com/1/requests.fifo')).toBe(true);
    expect(isFifoQueue('https://sqs.eu-west-1.amazonaws.com/1/requests')).toBe(false);
  });
});
