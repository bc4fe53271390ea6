import type { Readable, Writable } from 'node:stream';
import { type Backend, generateSessionId, type Logger, sessionLogId } from '@asyncmcp/core';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { childLogger, createDefaultLogger } from './default-logger.js';
import { SessionBridge } from './session-bridge.js';

export interface ProxyStdioOptions {
  backend: Backend;
  /** @default PROXY_DEFAULTS.requestTimeoutMs (300000) */
  requestTimeoutMs?: number;
  /** @default JSON lines on stderr (stdout carries the protocol) */
  logger?: Logger;
  /** @default process.stdin */
  stdin?: Readable;
  /** @default process.stdout */
  stdout?: Writable;
}

/**
 * The gateway with stdio in front: one session on stdin/stdout, so a desktop client can launch the
 * gateway as a local MCP server. Resolves once running; `closed` resolves when either side has ended
 * and the backend has been closed.
 */
export async function proxyStdio(
  options: ProxyStdioOptions,
): Promise<{ sessionKey: string; closed: Promise<void>; close(): Promise<void> }> {
  const logger = options.logger ?? createDefaultLogger({ destination: 'stderr' });
  const sessionKey = generateSessionId('hex');
  const log = childLogger(logger, { sessionId: sessionLogId(sessionKey) });
  const back = await options.backend.createTransport({ sessionKey, logger: log });
  const front = new StdioServerTransport(options.stdin, options.stdout);
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  const bridge = new SessionBridge({
    front,
    back,
    requestTimeoutMs: options.requestTimeoutMs,
    logger: log,
    // The backend exists for this one session: release it (and any queue it created) with the session.
    onclose: () => {
      void options.backend.close().finally(markClosed);
    },
  });
  await bridge.start();
  // stdin ending is the client going away.
  (options.stdin ?? process.stdin).once('end', () => void bridge.close());
  log.info({ backend: options.backend.name }, 'stdio session started');
  return { sessionKey, closed, close: () => bridge.close() };
}
