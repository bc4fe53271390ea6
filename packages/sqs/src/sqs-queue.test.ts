import { describe, expect, it } from 'vitest';
import { isFifoQueue } from './sqs-queue.js';

describe('SQS queue helpers', () => {
  it('recognises FIFO queues by the .fifo suffix', () => {
    expect(isFifoQueue('https://sqs.eu-west-1.amazonaws.com/1/requests.fifo')).toBe(true);
    expect(isFifoQueue('https://sqs.eu-west-1.amazonaws.com/1/requests')).toBe(false);
  });
});
