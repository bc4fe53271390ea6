import { describe, expect, it } from 'vitest';
import { LOG_REDACTION, sessionLogId } from './logger.js';

describe('sessionLogId', () => {
  it('is a short digest that never contains the id, the same for the same id everywhere', () => {
    const id = 'b6a3f0c2-1d4e-4f5a-9b8c-7d6e5f4a3b2c';
    const digest = sessionLogId(id);
    expect(digest).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(digest).not.toContain(id);
    expect(digest).not.toContain(id.slice(0, 8));
    expect(sessionLogId(id)).toBe(digest);
    expect(sessionLogId(`${id}x`)).not.toBe(digest);
  });

  it('passes a digest and undefined through unchanged', () => {
    const digest = sessionLogId('some-session');
    expect(sessionLogId(digest)).toBe(digest);
    expect(sessionLogId(undefined)).toBeUndefined();
  });
});

describe('LOG_REDACTION', () => {
  it('covers authorization headers, AWS session tokens and the gateway secrets at every depth it names', () => {
    for (const path of [
      'authorization',
      '*.authorization',
      'headers.authorization',
      '*.headers.authorization',
      'headers.Authorization',
      '*.headers["x-amz-security-token"]',
      'authToken',
      '*.signingSecret',
      '*.AWS_SECRET_ACCESS_KEY',
      'sessionId',
      '*.sessionId',
      'headers["mcp-session-id"]',
    ]) {
      expect(LOG_REDACTION.paths).toContain(path);
    }
  });

  it('censors secrets and digests session ids', () => {
    expect(LOG_REDACTION.censor('Bearer abc', ['req', 'headers', 'authorization'])).toBe('[redacted]');
    expect(LOG_REDACTION.censor('abc', ['sessionId'])).toBe(sessionLogId('abc'));
    expect(LOG_REDACTION.censor('abc', ['headers', 'mcp-session-id'])).toBe(sessionLogId('abc'));
  });
});
