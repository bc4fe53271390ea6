import { describe, expect, it } from 'vitest';
import { runDemo } from './demo.js';

describe('sqs-weather example', () => {
  it('answers a forecast through SQS end to end', async () => {
    const { sessionId, tools, answer } = await runDemo('Porto');
    expect(sessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(tools).toEqual(['forecast']);
    expect(answer).toBe('Porto: sunny, 21 °C');
  });
});
