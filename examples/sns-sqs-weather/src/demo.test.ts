import { describe, expect, it } from 'vitest';
import { runDemo } from './demo.js';

describe('sns-sqs-weather example', () => {
  it('answers a forecast through SNS topics and SQS queues end to end', async () => {
    const { sessionId, tools, answer } = await runDemo('Porto');
    expect(sessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(tools).toEqual(['forecast']);
    expect(answer).toBe('Porto: sunny, 21 °C');
  });
});
