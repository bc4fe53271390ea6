import { describe, expect, it } from 'vitest';
import { runQuickstart } from './quickstart.js';

describe('quickstart example', () => {
  it('answers a tool call through the async transport', async () => {
    const { sessionId, answer } = await runQuickstart('Porto');
    expect(sessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(answer).toBe('Porto: sunny, 21 °C');
  });
});
