import { sessionLogId } from '@asyncmcp/core';
import { describe, expect, it } from 'vitest';
import { childLogger, createDefaultLogger, sessionLogger } from './default-logger.js';

function capture() {
  const lines: string[] = [];
  const logger = createDefaultLogger({ level: 'debug', destination: { write: (line) => lines.push(line) } });
  return { logger, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('createDefaultLogger', () => {
  it('redacts authorization headers and secrets, wherever a logged object carries them', () => {
    const { logger, lines, parsed } = capture();
    const secrets = [
      'Bearer top-secret-token',
      'Basic dXNlcjpwYXNz',
      'FwoGZXIvYXdzEJr-session-token',
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'the-gateway-auth-token',
      'wJalrXUtnFEMI-secret-access-key',
      'sid=cookie-value',
    ];
    logger.warn(
      {
        authorization: secrets[0],
        headers: { Authorization: secrets[1], 'x-amz-security-token': secrets[2], accept: 'text/plain' },
        req: { headers: { authorization: secrets[0], cookie: secrets[6] } },
        config: { signingSecret: secrets[3], authToken: secrets[4], port: 8080 },
        credentials: { secretAccessKey: secrets[5] },
        env: { AWS_SECRET_ACCESS_KEY: secrets[5], ASYNCMCP_AUTH_TOKEN: secrets[4], HOME: '/home/u' },
      },
      'a request with everything in it',
    );
    for (const secret of secrets) expect(lines.join('')).not.toContain(secret);
    const [line] = parsed();
    expect(line).toMatchObject({
      authorization: '[redacted]',
      headers: { Authorization: '[redacted]', 'x-amz-security-token': '[redacted]', accept: 'text/plain' },
      req: { headers: { authorization: '[redacted]', cookie: '[redacted]' } },
      config: { signingSecret: '[redacted]', authToken: '[redacted]', port: 8080 },
      credentials: '[redacted]',
      env: { AWS_SECRET_ACCESS_KEY: '[redacted]', ASYNCMCP_AUTH_TOKEN: '[redacted]', HOME: '/home/u' },
      msg: 'a request with everything in it',
    });
  });

  it('logs session ids as digests: in fields, in headers, and in a child logger’s bindings', () => {
    const { logger, lines, parsed } = capture();
    const id = '6f1c0e9b2d7a4c3e8b5f0a1d2c3e4f5a';
    logger.info({ sessionId: id, headers: { 'mcp-session-id': id } }, 'session opened');
    childLogger(logger, { sessionId: id }).info({ sessionKey: id }, 'session deleted by the client');
    // A digest already made by a library passes through unchanged, so both name the session alike.
    logger.info({ sessionId: sessionLogId(id) }, 'session closed');
    expect(lines.join('')).not.toContain(id);
    const digest = sessionLogId(id);
    expect(parsed()).toMatchObject([
      { sessionId: digest, headers: { 'mcp-session-id': digest } },
      { sessionId: digest, sessionKey: digest },
      { sessionId: digest },
    ]);
  });

  it('names the session on every line of a session logger, as a digest, with no child logger', () => {
    const { logger, parsed } = capture();
    const id = '6f1c0e9b2d7a4c3e8b5f0a1d2c3e4f5a';
    const log = sessionLogger(logger, sessionLogId(id));
    log.debug({ step: 1 }, 'one');
    log.info({}, 'two');
    log.warn({ err: 'x' }, 'three');
    log.error({ sessionId: id }, 'four');
    const digest = sessionLogId(id);
    expect(parsed()).toMatchObject([
      { sessionId: digest, step: 1, msg: 'one' },
      { sessionId: digest, msg: 'two' },
      { sessionId: digest, err: 'x', msg: 'three' },
      // A line that names a session itself says which, as a digest too.
      { sessionId: digest, msg: 'four' },
    ]);
    // A logger that makes no children is used as it is.
    const plain = { debug() {}, info() {}, warn() {}, error() {} };
    expect(sessionLogger(plain, 'x')).toBe(plain);
  });
});
