import { createHash } from 'node:crypto';

/**
 * The logging surface libraries write to. It is the subset of pino's API we use, so a pino logger (or
 * any `console`-like adapter) can be passed as it is; libraries never create loggers of their own.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message?: string): void;
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
  error(fields: Record<string, unknown>, message?: string): void;
}

const noop = (): void => {};

/** The default: says nothing. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

const SESSION_LOG_PREFIX = 'sha256:';
const SESSION_LOG_PATTERN = /^sha256:[0-9a-f]{16}$/;

/**
 * How a session id appears in logs: a short SHA-256 digest (`sha256:` and 16 hex characters), never the
 * id itself. A session id works like a bearer token (whoever knows it can act in the session), and logs
 * travel further than tokens should; the digest still lets gateway and server lines of one session be
 * matched (`sessionLogId` of the same id is the same everywhere). Already-digested values pass unchanged.
 */
export function sessionLogId(id: string): string;
export function sessionLogId(id: string | undefined): string | undefined;
export function sessionLogId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  if (SESSION_LOG_PATTERN.test(id)) return id;
  return `${SESSION_LOG_PREFIX}${createHash('sha256').update(id).digest('hex').slice(0, 16)}`;
}

/** Field and header names whose values are secrets: never written to a log. */
const SECRET_KEYS = [
  'authorization',
  'Authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-amz-security-token',
  'x-api-key',
  'authToken',
  'signingSecret',
  'secret',
  'password',
  'token',
  'secretAccessKey',
  'sessionToken',
  'credentials',
  'AUTH_TOKEN',
  'ASYNCMCP_AUTH_TOKEN',
  'ASYNCMCP_SIGNING_SECRET',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const;

/** Field and header names whose values are session ids: logged as `sessionLogId` digests. */
const SESSION_KEYS = ['sessionId', 'sessionKey', 'mcp-session-id', 'x-session-id'] as const;

function pathsFor(key: string): string[] {
  const name = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const join = (parent: string) => (name.startsWith('[') ? `${parent}${name}` : `${parent}.${name}`);
  return [name, join('*'), join('headers'), join('*.headers')];
}

const SESSION_PATH_ENDINGS = new Set<string>(SESSION_KEYS);

/**
 * pino's `redact` option as every logger asyncmcp creates uses it (pass it to a pino logger of your
 * own too): secrets — authorization and cookie headers, AWS session tokens, the gateway's token and
 * signing secret — come out as `[redacted]`, at the top level, one level down, and in `headers`; session
 * ids come out as `sessionLogId` digests.
 */
export const LOG_REDACTION: {
  readonly paths: string[];
  readonly censor: (value: unknown, path: string[]) => unknown;
} = {
  paths: [...SECRET_KEYS, ...SESSION_KEYS].flatMap(pathsFor),
  censor: (value, path) => {
    const key = path[path.length - 1] ?? '';
    if (!SESSION_PATH_ENDINGS.has(key)) return '[redacted]';
    return typeof value === 'string' ? sessionLogId(value) : value;
  },
};
