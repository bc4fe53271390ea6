import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  type LoggingLevel,
  LoggingLevelSchema,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Extra } from './content.js';

/** Sends a log notification on the call's own stream, unless below the level the client set. */
export type SessionLog = (extra: Extra, level: LoggingLevel, data: string) => Promise<void>;

const LOG_LEVELS = LoggingLevelSchema.options;

/** Answers `logging/setLevel` for this server's session and returns the log function its tools use. */
export function handleLogLevel(server: McpServer): SessionLog {
  // The SDK's own `logging/setLevel` handler only filters `sendLoggingMessage`, which goes out on the
  // standalone stream; tool logs go on the call's own stream (so they arrive before its result), so
  // the level is kept here.
  let minLogLevel: LoggingLevel = 'debug';
  server.server.setRequestHandler(SetLevelRequestSchema, ({ params }) => {
    minLogLevel = params.level;
    return {};
  });
  return async (extra, level, data) => {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(minLogLevel)) return;
    await extra.sendNotification({
      method: 'notifications/message',
      params: { level, logger: 'everything-server', data },
    });
  };
}
