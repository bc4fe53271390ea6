import { describe, expect, it } from 'vitest';
import { generateSessionId, isValidSessionId, MAX_SESSION_ID_LENGTH } from './session-id.js';

describe('generateSessionId', () => {
  it('mints 32 lowercase hex characters by default', () => {
    for (let i = 0; i < 20; i++) {
      const id = generateSessionId();
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(isValidSessionId(id)).toBe(true);
    }
  });

  it("mints 32 lowercase hex characters for 'hex'", () => {
    expect(generateSessionId('hex')).toMatch(/^[0-9a-f]{32}$/);
  });

  it("mints a dashed UUID for 'uuid'", () => {
    const id = generateSessionId('uuid');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isValidSessionId(id)).toBe(true);
  });

  it('mints a different id every time', () => {
    const ids = new Set(Array.from({ length: 200 }, () => generateSessionId()));
    expect(ids.size).toBe(200);
  });
});

describe('isValidSessionId', () => {
  it('accepts visible ASCII 0x21–0x7E of any length from 1 to the maximum', () => {
    expect(isValidSessionId('a')).toBe(true);
    expect(isValidSessionId('!')).toBe(true);
    expect(isValidSessionId('~')).toBe(true);
    let all = '';
    for (let code = 0x21; code <= 0x7e; code++) all += String.fromCharCode(code);
    expect(isValidSessionId(all)).toBe(true);
    expect(isValidSessionId('gw-1a2b3c4d-17')).toBe(true);
  });

  it('accepts exactly MAX_SESSION_ID_LENGTH characters and rejects one more', () => {
    expect(MAX_SESSION_ID_LENGTH).toBe(256);
    expect(isValidSessionId('x'.repeat(256))).toBe(true);
    expect(isValidSessionId('x'.repeat(257))).toBe(false);
  });

  it('rejects the empty string', () => {
    expect(isValidSessionId('')).toBe(false);
  });

  it('rejects spaces and other characters outside 0x21–0x7E', () => {
    expect(isValidSessionId('abc def')).toBe(false);
    expect(isValidSessionId(' abc')).toBe(false);
    expect(isValidSessionId('abc\n')).toBe(false);
    expect(isValidSessionId('abc\t')).toBe(false);
    expect(isValidSessionId('\u0000')).toBe(false);
    expect(isValidSessionId('\u007f')).toBe(false);
    expect(isValidSessionId('sessión')).toBe(false);
    expect(isValidSessionId('😀')).toBe(false);
    expect(isValidSessionId('\u00a0')).toBe(false);
  });

  it('rejects values that are not strings', () => {
    expect(isValidSessionId(undefined)).toBe(false);
    expect(isValidSessionId(null)).toBe(false);
    expect(isValidSessionId(123)).toBe(false);
    expect(isValidSessionId(['abc'])).toBe(false);
  });
});
