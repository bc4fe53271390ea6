import { describe, expect, it } from 'vitest';
import { runDemo } from './demo.js';

describe('webhook-weather example', () => {
  it('answers a forecast through signed webhooks end to end', async () => {
    const { sessionId, tools, answer, progress } = await runDemo('Porto');
    expect(sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(tools).toEqual(['forecast']);
    expect(progress).toEqual(['asking the clouds']);
    expect(answer).toBe('Porto: sunny, 21 °C');
  });
});
