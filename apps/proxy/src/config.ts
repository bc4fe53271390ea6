import { readFileSync } from 'node:fs';
import { AsyncMcpError, AsyncMcpErrorCode, ConfigurationError, SESSION_DEFAULTS } from '@asyncmcp/core';
import { isLoopbackHost, PROXY_DEFAULTS, type ProxyHttpLimits } from '@asyncmcp/proxy';
import { decodeWebhookSecret } from '@asyncmcp/webhook';
import { parse as parseYaml } from 'yaml';
import { regionOfResources } from './aws-region.js';
import {
  BACKEND_NAMES,
  type BackendName,
  CONFIG_SETTING,
  isAvailableBackend,
  isAwsBackend,
  isWebhookBackend,
  LOG_LEVELS,
  type LogLevel,
  SERVE_FILE_ONLY_KEYS,
  SERVE_SETTINGS,
  SETTINGS,
  type ServeSettingKey,
  type SettingKey,
  type SettingSpec,
} from './settings.js';

/**
 * Turns flags, environment variables and a config file into one validated `GatewayConfig`.
 * Pure: the caller hands in the flag values, the environment and the file's text, so every rule here
 * is unit-tested without processes. Precedence: flags > env > file > defaults.
 */

/** Why a configuration was refused; stable, for tests and callers to match on (never on messages). */
export type GatewayConfigErrorReason =
  | 'missing-request-queue-url'
  | 'missing-request-topic-arn'
  /** webhook, hybrid: no --server-url. */
  | 'missing-server-url'
  /** webhook, hybrid: no --webhook-base-url while --host is not loopback. */
  | 'missing-webhook-base-url'
  /** serve with webhook or hybrid: no --port. */
  | 'missing-port'
  /** serve with hybrid: no --webhook-tool. */
  | 'missing-webhook-tools'
  /** A setting of another backend than the one chosen (e.g. --request-queue-url with sns-sqs). */
  | 'setting-not-for-backend'
  | 'invalid-value'
  | 'unknown-backend'
  | 'backend-unavailable'
  | 'missing-region'
  | 'config-file-unreadable'
  | 'config-file-invalid'
  | 'unknown-config-key'
  /** serve: neither a command nor an upstream URL. */
  | 'missing-upstream'
  /** serve: a command and an upstream URL from the same place. */
  | 'conflicting-upstream'
  /** serve: the command cannot be run (not found, not executable). */
  | 'command-not-runnable'
  /** A --host other than loopback without --auth-token or --insecure-no-auth. */
  | 'missing-auth-token';

/**
 * A configuration the gateway cannot run with. The message is one line that says what is wrong and
 * how to fix it; the CLI prints it as it is and exits with code 2.
 */
export class GatewayConfigError extends ConfigurationError {
  readonly reason: GatewayConfigErrorReason;
  constructor(reason: GatewayConfigErrorReason, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'GatewayConfigError';
    this.reason = reason;
  }
}

export interface GatewayConfig {
  backend: BackendName;
  /** sqs: the queue the servers read. */
  requestQueueUrl: string | undefined;
  /** sqs and sns-sqs: the queue answers come back on; undefined lets the backend make one. */
  responseQueueUrl: string | undefined;
  /** sns-sqs: the topic the servers receive from. */
  requestTopicArn: string | undefined;
  /** sns-sqs: the topic servers publish answers to; undefined lets the backend make one. */
  responseTopicArn: string | undefined;
  /** webhook, hybrid: the async MCP server's endpoint. */
  serverUrl: string | undefined;
  /**
   * webhook, hybrid: where the server reaches this gateway instance (no trailing slash). Undefined: the
   * gateway's own listening address, known once it listens; only allowed when `host` is loopback.
   */
  webhookBaseUrl: string | undefined;
  /** webhook, hybrid: where webhooks are received (`/webhooks`); undefined for the other backends. */
  webhookPath: string | undefined;
  /**
   * The Standard Webhooks secret shared with the servers: sqs, sns-sqs sign every message and refuse
   * answers not signed with it; webhook, hybrid sign requests and refuse unsigned deliveries. A secret:
   * never logged or echoed.
   */
  signingSecret: string | undefined;
  port: number;
  host: string;
  path: string;
  authToken: string | undefined;
  corsOrigins: string[];
  /** Undefined leaves the library's default: loopback names when bound to loopback. */
  allowedHosts: string[] | undefined;
  /** Undefined leaves the library's default: loopback origins when bound to loopback. */
  allowedOrigins: string[] | undefined;
  maxSessions: number;
  sessionIdleTimeoutMs: number;
  requestTimeoutMs: number;
  /** Answer POSTs with one JSON body instead of an SSE stream. */
  jsonResponse: boolean;
  stdio: boolean;
  /** Most requests of one session waiting for the backend at once. */
  maxInFlightPerSession: number;
  /** Serve /metrics without the bearer token. */
  publicMetrics: boolean;
  /** A --host other than loopback was allowed without a token, on purpose. */
  insecureNoAuth: boolean;
  /** The HTTP server's timeouts and connection cap. */
  http: Required<ProxyHttpLimits>;
  /**
   * From a flag, the environment or the file; else the region the request queue URL or topic ARN names;
   * undefined lets the AWS SDK find it itself (shared config profile).
   */
  region: string | undefined;
  endpointUrl: string | undefined;
  logLevel: LogLevel;
  /** The config file that was read, if any. */
  configFile: string | undefined;
}

/** One flag's value as the command-line parser gives it: a string, a list when repeatable, `true` for a switch. */
export type FlagValue = string | readonly string[] | boolean;

/** Flag values as the command-line parser gives them: strings, lists for repeatable flags, `true` for switches. */
export type FlagValues = Partial<Record<SettingKey, FlagValue>> & {
  config?: string;
};

export type Environment = Readonly<Record<string, string | undefined>>;

export interface ResolveConfigInput {
  flags: FlagValues;
  env: Environment;
  /** The config file named by `--config` or ASYNCMCP_CONFIG, already read. */
  file?: { path: string; contents: string };
}

const SETTING_KEYS: readonly string[] = SETTINGS.map((setting) => setting.key);

/** The request queue URL is missing; for serve with sns-sqs, the queue is the one subscribed to the request topic. */
export function missingRequestQueueUrlError(backend: BackendName): GatewayConfigError {
  const what =
    backend === 'sns-sqs'
      ? 'a request queue URL (the SQS queue subscribed to the request topic)'
      : 'a request queue URL';
  return new GatewayConfigError(
    'missing-request-queue-url',
    `the ${backend} backend needs ${what}: pass --request-queue-url, set ASYNCMCP_REQUEST_QUEUE_URL, or add requestQueueUrl to the config file`,
  );
}

export function missingRequestTopicArnError(): GatewayConfigError {
  return new GatewayConfigError(
    'missing-request-topic-arn',
    'the sns-sqs backend needs a request topic ARN: pass --request-topic-arn, set ASYNCMCP_REQUEST_TOPIC_ARN, or add requestTopicArn to the config file',
  );
}

export function missingServerUrlError(backend: BackendName): GatewayConfigError {
  const example =
    backend === 'hybrid' ? 'http://mcp.internal:8000/mcp' : 'http://mcp.internal:8000/mcp/request';
  return new GatewayConfigError(
    'missing-server-url',
    `the ${backend} backend needs the server's endpoint, such as ${example}: pass --server-url, set ASYNCMCP_SERVER_URL, or add serverUrl to the config file`,
  );
}

/**
 * What the chosen backend takes in place of a setting of another backend, for the refusal to suggest:
 * setting key → backend → its flag.
 */
type Counterparts = Readonly<Record<string, Partial<Record<BackendName, string>>>>;

const COUNTERPARTS: Counterparts = {
  requestQueueUrl: { 'sns-sqs': '--request-topic-arn', webhook: '--server-url', hybrid: '--server-url' },
  requestTopicArn: { sqs: '--request-queue-url', webhook: '--server-url', hybrid: '--server-url' },
  serverUrl: { sqs: '--request-queue-url', 'sns-sqs': '--request-topic-arn' },
};

/** serve's: a queue backend reads a queue where the HTTP backends listen on a port. */
const SERVE_COUNTERPARTS: Counterparts = {
  requestQueueUrl: { webhook: '--port', hybrid: '--port' },
  port: { sqs: '--request-queue-url', 'sns-sqs': '--request-queue-url' },
};

/**
 * An environment variable of another tool (AWS_REGION, AWS_ENDPOINT_URL, PORT): set for others as often
 * as for us, so it is ignored by a backend it does not apply to, where ours would be refused.
 */
function isSharedEnvironment(source: Source): boolean {
  return source.kind === 'env' && !source.name.startsWith('ASYNCMCP_');
}

/** The region as configured (flag > environment > file); else the one the queue URL or topic ARN names. */
function resolveRegion(
  raw: Raw | undefined,
  resources: ReadonlyArray<string | undefined>,
): string | undefined {
  return optional(raw, parseRegion) ?? regionOfResources(resources);
}

/**
 * Refuses a setting given (anywhere) for another backend than the chosen one: it would be ignored, and
 * an ignored queue or topic is a misconfiguration that only shows much later. A backend this version
 * cannot run is refused as such by the CLI, which says more than any of its settings could.
 */
function assertSettingsBelongTo<K extends string>(
  backend: BackendName,
  table: readonly SettingSpec[],
  pick: (key: K) => Raw | undefined,
  counterparts: Counterparts,
): void {
  if (!isAvailableBackend(backend)) return;
  for (const setting of table) {
    const owners = setting.backends;
    if (owners === undefined || owners.includes(backend)) continue;
    const raw = pick(setting.key as K);
    if (raw === undefined || isSharedEnvironment(raw.source)) continue;
    if (setting.sharedInEnvironment === true && raw.source.kind === 'env') continue;
    const where = raw.source.kind === 'flag' ? '' : ` (set by ${describeSource(raw.source)})`;
    const counterpart = counterparts[setting.key]?.[backend];
    const instead = counterpart === undefined ? '' : `; the ${backend} backend takes ${counterpart} instead`;
    throw new GatewayConfigError(
      'setting-not-for-backend',
      `${setting.flag}${where} belongs to the ${owners.join(' and ')} backend${owners.length > 1 ? 's' : ''}, not ${backend}: remove it, or choose --backend ${owners[0]}${instead}`,
    );
  }
}

/** The config file to read, if any: `--config` wins over ASYNCMCP_CONFIG. */
export function configFilePath(flags: FlagValues, env: Environment): string | undefined {
  const fromFlag = flags.config;
  if (typeof fromFlag === 'string' && fromFlag !== '') return fromFlag;
  const fromEnv = env[CONFIG_SETTING.env[0]];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/** Reads a config file, turning any failure into a one-line configuration error. */
export function readConfigFile(path: string, read: (path: string) => string = readText): string {
  try {
    return read(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : firstLine(error instanceof Error ? error.message : String(error));
    throw new GatewayConfigError(
      'config-file-unreadable',
      `cannot read config file "${path}": ${why}; check the path given to --config or ASYNCMCP_CONFIG`,
      { cause: error },
    );
  }
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Where a raw value came from, as error messages name it. */
type Source =
  | { kind: 'flag'; flag: string }
  | { kind: 'env'; name: string }
  | { kind: 'file'; key: string; path: string };

interface Raw {
  value: unknown;
  source: Source;
}

function describeSource(source: Source): string {
  if (source.kind === 'flag') return source.flag;
  if (source.kind === 'env') return `environment variable ${source.name}`;
  return `key ${source.key} in config file "${source.path}"`;
}

/**
 * Reads one setting of `table` where it is strongest: a flag, then its environment variables in order,
 * then the file. Empty flags, empty lists and empty environment variables count as unset.
 */
function makePick<K extends string>(
  table: readonly SettingSpec[],
  flags: Readonly<Partial<Record<K, FlagValue>>>,
  env: Environment,
  file: { path: string; values: Record<string, unknown> } | undefined,
): (key: K) => Raw | undefined {
  return (key) => {
    const setting = table.find((candidate) => candidate.key === key)!;
    const flagValue = flags[key];
    if (isGiven(flagValue)) return { value: flagValue, source: { kind: 'flag', flag: setting.flag } };
    for (const name of setting.env) {
      const value = env[name];
      if (value !== undefined && value !== '') return { value, source: { kind: 'env', name } };
    }
    const fileValue = file?.values[key];
    if (file && fileValue !== undefined && fileValue !== null) {
      return { value: fileValue, source: { kind: 'file', key, path: file.path } };
    }
    return undefined;
  };
}

function isGiven(value: FlagValue | undefined): value is FlagValue {
  return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== '';
}

function parseRequestQueueUrl(raw: Raw): string {
  return parseUrl(
    raw,
    'request queue URL',
    'an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/my-queue',
  );
}

/** arn:<partition>:sns:<region>:<account>:<name>, a FIFO topic's name ending in .fifo. */
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

function parseTopicArn(raw: Raw, what: string): string {
  const expected = 'an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:mcp-requests';
  const value = text(raw, what, expected);
  if (!TOPIC_ARN.test(value)) throw invalid(what, raw, expected);
  return value;
}

export function resolveConfig({ flags, env, file }: ResolveConfigInput): GatewayConfig {
  const fileValues = file ? parseConfigFile(file.path, file.contents, SETTING_KEYS) : {};
  const pick = makePick<SettingKey>(SETTINGS, flags, env, file && { path: file.path, values: fileValues });

  const backend = parseBackend(pick('backend'));
  assertSettingsBelongTo(backend, SETTINGS, pick, COUNTERPARTS);
  const requestQueueUrl = optional(pick('requestQueueUrl'), parseRequestQueueUrl);
  if (backend === 'sqs' && requestQueueUrl === undefined) throw missingRequestQueueUrlError(backend);
  const requestTopicArn = optional(pick('requestTopicArn'), (raw) => parseTopicArn(raw, 'request topic ARN'));
  if (backend === 'sns-sqs' && requestTopicArn === undefined) throw missingRequestTopicArnError();
  const webhook = isWebhookBackend(backend);
  // Only what the backend uses: AWS_REGION set for other tools is no concern of a webhook gateway.
  const forBackend = <T>(applies: boolean, raw: Raw | undefined, parse: (raw: Raw) => T) =>
    applies ? optional(raw, parse) : undefined;
  const serverUrl = forBackend(webhook, pick('serverUrl'), parseServerUrl);
  if (webhook && serverUrl === undefined) throw missingServerUrlError(backend);
  const host = optional(pick('host'), parseHost) ?? '127.0.0.1';
  const path = optional(pick('path'), parsePath) ?? '/mcp';
  const webhookBaseUrl = forBackend(webhook, pick('webhookBaseUrl'), parseWebhookBaseUrl);
  if (webhook && webhookBaseUrl === undefined && !isLoopbackHost(host)) {
    throw missingWebhookBaseUrlError(backend, host, pick('host'));
  }
  const webhookPathRaw = pick('webhookPath');
  const webhookPath = webhook
    ? (optional(webhookPathRaw, parseWebhookPath) ?? DEFAULT_WEBHOOK_PATH)
    : undefined;
  if (webhookPath !== undefined) assertPathsApart(webhookPath, webhookPathRaw, path);
  const authToken = optional(pick('authToken'), parseAuthToken);
  const stdio = optional(pick('stdio'), (raw) => parseBoolean(raw, 'stdio switch')) ?? false;
  const limits = resolveGatewayLimits(pick);
  // stdio serves MCP on stdin/stdout: --host binds only a webhook receiver there, which checks signatures.
  if (!stdio) assertAuthForHost(host, pick('host'), authToken, limits.insecureNoAuth);
  const responseQueueUrl = optional(pick('responseQueueUrl'), (raw) =>
    parseUrl(
      raw,
      'response queue URL',
      'an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/my-queue',
    ),
  );
  const responseTopicArn = optional(pick('responseTopicArn'), (raw) =>
    parseTopicArn(raw, 'response topic ARN'),
  );
  const aws = isAwsBackend(backend);

  return {
    backend,
    requestQueueUrl,
    responseQueueUrl,
    requestTopicArn,
    responseTopicArn,
    serverUrl,
    webhookBaseUrl,
    webhookPath,
    signingSecret: optional(pick('signingSecret'), parseSigningSecret),
    port: optional(pick('port'), parsePort) ?? 8080,
    host,
    path,
    authToken,
    corsOrigins: optional(pick('corsOrigins'), (raw) => parseList(raw, 'CORS origin', parseOrigin)) ?? [],
    allowedHosts: optional(pick('allowedHosts'), (raw) => parseList(raw, 'allowed host', parseHostName)),
    allowedOrigins: optional(pick('allowedOrigins'), (raw) => parseList(raw, 'allowed origin', parseOrigin)),
    maxSessions: optional(pick('maxSessions'), parseMaxSessions) ?? 1_000,
    sessionIdleTimeoutMs:
      (optional(pick('sessionIdleTimeout'), (raw) => parseSeconds(raw, 'session idle timeout')) ?? 1_800) *
      1000,
    requestTimeoutMs:
      (optional(pick('requestTimeout'), (raw) => parseSeconds(raw, 'request timeout')) ?? 300) * 1000,
    jsonResponse: optional(pick('jsonResponse'), (raw) => parseBoolean(raw, 'json-response switch')) ?? false,
    stdio,
    ...limits,
    region: aws
      ? resolveRegion(pick('region'), [requestQueueUrl, requestTopicArn, responseQueueUrl, responseTopicArn])
      : undefined,
    endpointUrl: forBackend(isAwsBackend(backend), pick('endpointUrl'), parseEndpointUrl),
    logLevel: optional(pick('logLevel'), parseLogLevel) ?? 'info',
    configFile: file?.path,
  };
}

// ---- bounds under abuse ----

/** The gateway's limits on what one client may hold: requests, connections, time; and who may connect. */
function resolveGatewayLimits(
  pick: (key: SettingKey) => Raw | undefined,
): Pick<GatewayConfig, 'maxInFlightPerSession' | 'publicMetrics' | 'insecureNoAuth' | 'http'> {
  const seconds = (key: SettingKey, what: string) =>
    optional(pick(key), (raw) => Math.max(1, Math.round(parseSeconds(raw, what) * 1000)));
  const defaults = PROXY_DEFAULTS.http;
  const http = {
    headersTimeoutMs: seconds('httpHeadersTimeout', 'HTTP headers timeout') ?? defaults.headersTimeoutMs,
    requestTimeoutMs: seconds('httpRequestTimeout', 'HTTP request timeout') ?? defaults.requestTimeoutMs,
    keepAliveTimeoutMs:
      seconds('httpKeepAliveTimeout', 'HTTP keep-alive timeout') ?? defaults.keepAliveTimeoutMs,
    maxConnections:
      optional(pick('maxConnections'), (raw) =>
        parseInteger(raw, 'max connections', 1, Number.MAX_SAFE_INTEGER, 'a whole number of at least 1'),
      ) ?? defaults.maxConnections,
  };
  // The one rule the parsers cannot see alone: the headers are part of the request.
  if (http.headersTimeoutMs > http.requestTimeoutMs) {
    throw new GatewayConfigError(
      'invalid-value',
      `the HTTP headers timeout (${http.headersTimeoutMs / 1000} s) must not be longer than the HTTP request timeout (${http.requestTimeoutMs / 1000} s): change --http-headers-timeout or --http-request-timeout`,
    );
  }
  return {
    maxInFlightPerSession:
      optional(pick('maxInFlightPerSession'), parseMaxInFlightPerSession) ??
      PROXY_DEFAULTS.maxInFlightPerSession,
    publicMetrics:
      optional(pick('publicMetrics'), (raw) => parseBoolean(raw, 'public-metrics switch')) ??
      PROXY_DEFAULTS.publicMetrics,
    insecureNoAuth:
      optional(pick('insecureNoAuth'), (raw) => parseBoolean(raw, 'insecure-no-auth switch')) ?? false,
    http,
  };
}

function parseMaxInFlightPerSession(raw: Raw): number {
  return parseInteger(
    raw,
    'max in-flight per session',
    1,
    Number.MAX_SAFE_INTEGER,
    'a whole number of at least 1',
  );
}

/**
 * A gateway reachable from the network needs a bearer token, or an explicit --insecure-no-auth (for one
 * behind a proxy that authenticates its clients): anyone who reaches an open gateway uses its backend.
 */
function assertAuthForHost(
  host: string,
  hostRaw: Raw | undefined,
  authToken: string | undefined,
  insecureNoAuth: boolean,
): void {
  if (isLoopbackHost(host) || authToken !== undefined || insecureNoAuth) return;
  const where =
    hostRaw === undefined || hostRaw.source.kind === 'flag'
      ? ''
      : ` (from ${describeSource(hostRaw.source)})`;
  throw new GatewayConfigError(
    'missing-auth-token',
    `--host ${host}${where} exposes the gateway to the network without a bearer token: set one with --auth-token (or ASYNCMCP_AUTH_TOKEN), or pass --insecure-no-auth (or ASYNCMCP_INSECURE_NO_AUTH=true) if something in front of the gateway authenticates its clients`,
  );
}

// ---- webhook and hybrid ----

export const DEFAULT_WEBHOOK_PATH = '/webhooks';

function parseEndpointUrl(raw: Raw): string {
  return parseUrl(raw, 'endpoint URL', 'an http(s) URL such as http://127.0.0.1:4566');
}

function parseServerUrl(raw: Raw): string {
  return parseUrl(
    raw,
    'server URL',
    'the http(s) URL of the async MCP server, such as http://mcp.internal:8000/mcp/request',
  );
}

function missingWebhookBaseUrlError(
  backend: BackendName,
  host: string,
  hostRaw: Raw | undefined,
): GatewayConfigError {
  const where =
    hostRaw === undefined || hostRaw.source.kind === 'flag'
      ? ''
      : ` (from ${describeSource(hostRaw.source)})`;
  return new GatewayConfigError(
    'missing-webhook-base-url',
    `the ${backend} backend needs the URL at which the server reaches this gateway, since --host ${host}${where} is not loopback: pass --webhook-base-url (such as http://gateway-1.internal:8080), set ASYNCMCP_WEBHOOK_BASE_URL, or add webhookBaseUrl to the config file`,
  );
}

/** An http(s) URL with no query, fragment or credentials; kept without a trailing slash. */
function parseWebhookBaseUrl(raw: Raw): string {
  const expected =
    'the http(s) URL at which the server reaches this gateway, such as http://gateway-1.internal:8080 (no query, fragment or credentials)';
  const value = parseUrl(raw, 'webhook base URL', expected);
  const url = new URL(value);
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw invalid('webhook base URL', raw, expected);
  }
  return value.replace(/\/+$/, '');
}

/** A path below the root, kept without a trailing slash (the sessions' paths are below it). */
function parseWebhookPath(raw: Raw): string {
  const expected = 'a path below the root, such as /webhooks';
  const value = text(raw, 'webhook path', expected);
  const trimmed = value.replace(/\/+$/, '');
  if (!value.startsWith('/') || trimmed === '' || /[\s?#]/.test(value) || trimmed.includes('//')) {
    throw invalid('webhook path', raw, expected);
  }
  return trimmed;
}

/** The gateway's own routes, which a webhook path must not cover or sit below. */
const GATEWAY_ROUTES = ['/health', '/ready', '/metrics'] as const;

/**
 * Refuses a webhook path that overlaps the MCP endpoint or the probes: the webhook route is mounted
 * first and takes every path below it, so it would swallow the endpoint (or be shadowed by it).
 */
function assertPathsApart(webhookPath: string, raw: Raw | undefined, mcpPath: string): void {
  const within = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}/`);
  const endpoint = mcpPath.replace(/\/+$/, '') || '/';
  for (const other of [endpoint, ...GATEWAY_ROUTES]) {
    if (!within(other, webhookPath) && !within(webhookPath, other)) continue;
    const from = raw === undefined ? '' : ` (from ${describeSource(raw.source)})`;
    const what = other === endpoint ? `the MCP endpoint ${mcpPath}` : `the gateway's ${other}`;
    throw new GatewayConfigError(
      'invalid-value',
      `the webhook path ${webhookPath}${from} overlaps ${what}: choose another --webhook-path, such as ${webhookPath === DEFAULT_WEBHOOK_PATH ? '/asyncmcp-webhooks' : DEFAULT_WEBHOOK_PATH}`,
    );
  }
}

/**
 * A Standard Webhooks secret: base64 (optionally after `whsec_`) of 16 bytes or more, decoded by the
 * webhook package as its signer decodes it. Never echoed.
 */
function parseSigningSecret(raw: Raw): string {
  const where = describeSource(raw.source);
  if (typeof raw.value !== 'string' || raw.value.trim() === '') {
    throw new GatewayConfigError(
      'invalid-value',
      `invalid signing secret from ${where}: expected a string (base64, optionally after whsec_)`,
    );
  }
  const value = raw.value.trim();
  try {
    decodeWebhookSecret(value, `the signing secret from ${where}`);
  } catch (error) {
    if (!AsyncMcpError.isInstance(error) || error.code !== AsyncMcpErrorCode.Configuration) throw error;
    throw new GatewayConfigError('invalid-value', error.message);
  }
  return value;
}

/** A webhook host for the allow-list: a host name, or `*.` and a host name for its subdomains. */
function parseWebhookHost(value: string, raw: Raw): string {
  const expected = 'a host name such as hooks.example.com, or *.example.com for its subdomains';
  const wildcard = value.startsWith('*.');
  const name = wildcard ? value.slice(2) : value;
  if (name === '' || name.includes('*')) throw invalid('webhook host', raw, expected);
  let parsed: string;
  try {
    parsed = parseHostName(name, raw);
  } catch {
    throw invalid('webhook host', raw, expected);
  }
  return wildcard ? `*.${parsed}` : parsed;
}

/** An `--allowed-response-queue` entry: an http(s) queue URL prefix, or an SNS topic ARN (`*` ends a prefix). */
function parseResponseDestination(value: string, raw: Raw): string {
  const expected =
    'a queue URL prefix such as https://sqs.eu-west-1.amazonaws.com/111122223333/replies- or a topic ARN such as arn:aws:sns:eu-west-1:111122223333:replies';
  if (value.startsWith('arn:')) {
    if (!/^arn:[^:]+:sns:[^:]*:[^:]*:[^:]+$/.test(value) || value.slice(0, -1).includes('*')) {
      throw invalid('allowed response queue', raw, expected);
    }
    return value;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('allowed response queue', raw, expected);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
    throw invalid('allowed response queue', raw, expected);
  }
  return value;
}

/** A tool name for `--webhook-tool`: non-empty, no spaces. */
function parseToolName(value: string, raw: Raw): string {
  if (/\s/.test(value)) throw invalid('webhook tool', raw, 'a tool name such as generate_report');
  return value;
}

/** Parses the file into setting values by key, refusing syntax errors, non-mappings and unknown keys. */
function parseConfigFile(
  path: string,
  contents: string,
  knownKeys: readonly string[],
): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(contents);
  } catch (error) {
    const detail = firstLine(error instanceof Error ? error.message : String(error)).replace(/:$/, '');
    throw new GatewayConfigError(
      'config-file-invalid',
      `invalid config file "${path}": ${detail}; it must be JSON or YAML`,
      { cause: error },
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewayConfigError(
      'config-file-invalid',
      `invalid config file "${path}": expected a mapping of settings such as "requestQueueUrl: https://…", got ${Array.isArray(parsed) ? 'a list' : `a ${typeof parsed}`}`,
    );
  }
  const values = parsed as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    if (knownKeys.includes(key)) continue;
    const suggestion = suggestKey(key, knownKeys);
    throw new GatewayConfigError(
      'unknown-config-key',
      `unknown key "${key}" in config file "${path}"${suggestion ? ` (did you mean ${suggestion}?)` : ''}; known keys: ${knownKeys.join(', ')}`,
    );
  }
  return values;
}

/** A known key that `key` was probably meant to be: other spelling, case, separators or a missing plural. */
function suggestKey(key: string, knownKeys: readonly string[]): string | undefined {
  const normalize = (name: string) => name.toLowerCase().replace(/[-_\s]/g, '');
  const wanted = normalize(key);
  return knownKeys.find((known) => {
    const candidate = normalize(known);
    return candidate === wanted || candidate === `${wanted}s` || editDistance(candidate, wanted) <= 2;
  });
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

function optional<T>(raw: Raw | undefined, parse: (raw: Raw) => T): T | undefined {
  return raw === undefined ? undefined : parse(raw);
}

function invalid(what: string, raw: Raw, expected: string): GatewayConfigError {
  return new GatewayConfigError(
    'invalid-value',
    `invalid ${what} ${show(raw.value)} from ${describeSource(raw.source)}: expected ${expected}`,
  );
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function text(raw: Raw, what: string, expected: string): string {
  if (typeof raw.value === 'string') return raw.value.trim();
  if (typeof raw.value === 'number' && Number.isFinite(raw.value)) return String(raw.value);
  throw invalid(what, raw, expected);
}

function parseBackend(raw: Raw | undefined): BackendName {
  if (raw === undefined) return 'sqs';
  const expected = `one of ${BACKEND_NAMES.join(', ')}`;
  const name = text(raw, 'backend', expected).toLowerCase().replace('_', '-');
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new GatewayConfigError(
    'unknown-backend',
    `unknown backend ${show(raw.value)} from ${describeSource(raw.source)}: expected ${expected}`,
  );
}

function parseUrl(raw: Raw, what: string, expected: string): string {
  const value = text(raw, what, expected);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(what, raw, expected);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(what, raw, expected);
  return value;
}

function parseInteger(raw: Raw, what: string, min: number, max: number, expected: string): number {
  const value = typeof raw.value === 'number' ? raw.value : Number(text(raw, what, expected));
  const isWholeText = typeof raw.value !== 'string' || /^\s*\d+\s*$/.test(raw.value);
  if (!isWholeText || !Number.isInteger(value) || value < min || value > max)
    throw invalid(what, raw, expected);
  return value;
}

function parsePort(raw: Raw): number {
  return parseInteger(raw, 'port', 0, 65_535, 'a whole number from 0 to 65535 (0 picks a free port)');
}

function parseMaxSessions(raw: Raw): number {
  return parseInteger(raw, 'max sessions', 1, Number.MAX_SAFE_INTEGER, 'a whole number of at least 1');
}

function parseReleaseUnknownSessions(raw: Raw): number {
  return parseInteger(
    raw,
    'release-unknown-sessions count',
    0,
    Number.MAX_SAFE_INTEGER,
    'a whole number of receives, 0 or more, such as 10 × the number of serve workers on the request queue',
  );
}

function parseSeconds(raw: Raw, what: string): number {
  const expected = 'a number of seconds greater than 0, such as 30 or 0.5';
  const value = typeof raw.value === 'number' ? raw.value : Number(text(raw, what, expected));
  const isNumberText = typeof raw.value !== 'string' || /^\s*\d+(\.\d+)?\s*$/.test(raw.value);
  // setTimeout cannot wait longer than 2^31-1 ms; beyond that it would fire at once.
  if (!isNumberText || !Number.isFinite(value) || value <= 0 || value * 1000 > 2_147_483_647) {
    throw invalid(what, raw, expected);
  }
  return value;
}

function parseHost(raw: Raw): string {
  const expected = 'an interface address such as 127.0.0.1, 0.0.0.0 or ::1';
  const value = text(raw, 'host', expected);
  if (value === '' || /[\s/]/.test(value)) throw invalid('host', raw, expected);
  return value;
}

function parsePath(raw: Raw): string {
  const expected = 'a path starting with "/", such as /mcp';
  const value = text(raw, 'path', expected);
  if (!value.startsWith('/') || /[\s?#]/.test(value)) throw invalid('path', raw, expected);
  return value;
}

function parseAuthToken(raw: Raw): string {
  if (typeof raw.value !== 'string') {
    throw new GatewayConfigError(
      'invalid-value',
      `invalid auth token from ${describeSource(raw.source)}: expected a string of at least 8 characters`,
    );
  }
  const value = raw.value.trim();
  // The token itself is never echoed: it is a secret.
  if (value.length < 8) {
    throw new GatewayConfigError(
      'invalid-value',
      `the auth token from ${describeSource(raw.source)} is too short: use at least 8 characters`,
    );
  }
  return value;
}

function parseRegion(raw: Raw): string {
  const expected = 'an AWS region such as us-east-1';
  const value = text(raw, 'region', expected);
  if (!/^[a-z0-9-]+$/.test(value)) throw invalid('region', raw, expected);
  return value;
}

function parseLogLevel(raw: Raw): LogLevel {
  const expected = `one of ${LOG_LEVELS.join(', ')}`;
  const value = text(raw, 'log level', expected).toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw invalid('log level', raw, expected);
}

function parseBoolean(raw: Raw, what: string): boolean {
  if (typeof raw.value === 'boolean') return raw.value;
  const expected = 'true or false';
  const value = text(raw, what, expected).toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw invalid(what, raw, expected);
}

/** A list from repeated flags, a comma-separated string or a file array; every item checked. */
function parseList(raw: Raw, what: string, parseItem: (item: string, raw: Raw) => string): string[] {
  const items: unknown[] = Array.isArray(raw.value) ? raw.value : [raw.value];
  const values: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') throw invalid(what, { value: item, source: raw.source }, 'a string');
    for (const part of item.split(',')) {
      const trimmed = part.trim();
      if (trimmed !== '') values.push(parseItem(trimmed, { value: trimmed, source: raw.source }));
    }
  }
  return values;
}

function parseOrigin(value: string, raw: Raw): string {
  const expected =
    'an origin such as https://app.example.com (scheme, host and port only; no path or trailing slash)';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('origin', raw, expected);
  }
  // Origin headers are compared as they are sent: scheme://host[:port], nothing after.
  if (url.origin === 'null' || url.origin !== value) throw invalid('origin', raw, expected);
  return value;
}

function parseHostName(value: string, raw: Raw): string {
  const expected = 'a host name such as mcp.example.com (no scheme, port or path)';
  let url: URL;
  try {
    url = new URL(`http://${value}`);
  } catch {
    throw invalid('host name', raw, expected);
  }
  if (
    url.port !== '' ||
    url.pathname !== '/' ||
    url.search !== '' ||
    url.username !== '' ||
    value.includes('/')
  ) {
    throw invalid('host name', raw, expected);
  }
  // The Host check compares the parsed (lower-case) name.
  return url.hostname;
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? '';
}

export interface DemoConfig {
  /** The transport the demo runs over, on its emulator. */
  backend: BackendName;
  port: number;
  host: string;
  logLevel: LogLevel;
}

/** The demo's few settings, checked like the gateway's. */
export function resolveDemoConfig(flags: {
  backend?: string;
  port?: string;
  host?: string;
  logLevel?: string;
}): DemoConfig {
  const raw = (value: string | undefined, flag: string): Raw | undefined =>
    value === undefined || value === '' ? undefined : { value, source: { kind: 'flag', flag } };
  return {
    backend: parseBackend(raw(flags.backend, '--backend')),
    port: optional(raw(flags.port, '--port'), parsePort) ?? 8080,
    host: optional(raw(flags.host, '--host'), parseHost) ?? '127.0.0.1',
    logLevel: optional(raw(flags.logLevel, '--log-level'), parseLogLevel) ?? 'warn',
  };
}

// ---- serve: an existing MCP server on an async transport ----

/** The MCP server `serve` puts on the transport: a command it runs once per session, or an HTTP server. */
export type ServeUpstream =
  | { kind: 'command'; command: string; args: string[] }
  | { kind: 'url'; url: string; headers: Record<string, string> };

export interface ServeConfig {
  backend: BackendName;
  /** sqs, sns-sqs: the queue serve reads. */
  requestQueueUrl: string | undefined;
  /** webhook, hybrid: the HTTP endpoint serve listens on; undefined for the queue backends. */
  http: ServeHttpConfig | undefined;
  /**
   * The secret shared with the clients: sqs, sns-sqs sign every message and refuse requests not signed
   * with it; webhook, hybrid sign deliveries (and webhook refuses unsigned requests). Never logged.
   */
  signingSecret: string | undefined;
  upstream: ServeUpstream;
  maxSessions: number;
  sessionIdleTimeoutMs: number;
  requestTimeoutMs: number;
  /** sqs, sns-sqs, webhook: most requests of one session running at once. */
  maxInFlightPerSession: number;
  deadLetterQueueUrl: string | undefined;
  /**
   * sqs, sns-sqs: response destinations clients may name besides the request queue's endpoint and
   * account (queue URL prefixes, topic ARNs); see `SqsSessionManagerOptions.allowedResponseDestinations`.
   */
  allowedResponseQueues: string[] | undefined;
  /**
   * sqs, sns-sqs: how many receives of a request for a session this serve does not hold hand it back to
   * the queue, for the worker holding it; 0 deletes it at once (one serve per queue), and always with
   * webhook and hybrid.
   */
  releaseUnknownSessions: number;
  /** sqs, sns-sqs: this worker's own queue, or none; see `SqsSessionManagerOptions.inbox`. */
  inbox: 'create' | { queueUrl: string } | undefined;
  /** sqs, sns-sqs: how often a running request's client hears that the worker is alive. */
  aliveIntervalSeconds: number;
  /** sqs, sns-sqs: any worker answers any request; no session is held. */
  stateless: boolean;
  /** sqs: a session takes messages only from the SQS SenderId of its `initialize`. */
  bindSessionsToSender: boolean;
  /** sqs, sns-sqs: visibility of a received request, extended while it runs. */
  visibilityTimeoutSeconds: number;
  /** A command's child processes: what of serve's environment they get. */
  childEnvironment: ChildEnvironment;
  /**
   * From a flag, the environment or the file; else the region the request queue URL or topic ARN names;
   * undefined lets the AWS SDK find it itself (shared config profile).
   */
  region: string | undefined;
  endpointUrl: string | undefined;
  logLevel: LogLevel;
  /** The config file that was read, if any. */
  configFile: string | undefined;
}

/**
 * The environment of `serve`'s child processes: a minimal one (the MCP SDK's default for stdio servers)
 * plus the variables named with `--env`, or serve's whole environment with `--pass-environment`.
 */
export interface ChildEnvironment {
  /** Serve's whole environment, secrets included; opt-in. */
  passEnvironment: boolean;
  /** `--env NAME=value` (value given) and `--env NAME` (serve's own value), in order. */
  variables: Array<{ name: string; value?: string }>;
}

/** Where and how `serve --backend webhook|hybrid` serves its HTTP endpoint. */
export interface ServeHttpConfig {
  port: number;
  host: string;
  /** The endpoint's path: `/mcp/request` (webhook) or `/mcp` (hybrid) unless given. */
  path: string;
  /** Deliver to loopback and private addresses too (the SSRF guard's `allowPrivateNetworks`). */
  allowPrivateNetworks: boolean;
  /** Deliver only to these hosts; undefined for any host the address checks allow. */
  allowedWebhookHosts: string[] | undefined;
  /** hybrid: the tools whose answers go to the webhook; undefined with webhook. */
  webhookTools: string[] | undefined;
}

/** `serve`'s flag values, and the command given after `--` (program, then its arguments). */
export type ServeFlagValues = Partial<Record<ServeSettingKey, FlagValue>> & {
  config?: string;
  command?: readonly string[];
};

export interface ResolveServeConfigInput {
  flags: ServeFlagValues;
  env: Environment;
  /** The config file named by `--config` or ASYNCMCP_CONFIG, already read. */
  file?: { path: string; contents: string };
}

const SERVE_FILE_KEYS: readonly string[] = [
  ...SERVE_SETTINGS.map((setting) => setting.key),
  ...SERVE_FILE_ONLY_KEYS,
];

/** An HTTP header field name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * `serve`'s settings, by the gateway's rules (flags > env > file > defaults, one-line errors). The server
 * to serve is a command (after `--`, or `command`/`args` in the file) or an upstream URL: exactly one
 * from the strongest place that names either; both from the same place is an error.
 */
export function resolveServeConfig({ flags, env, file }: ResolveServeConfigInput): ServeConfig {
  const fileValues = file ? parseConfigFile(file.path, file.contents, SERVE_FILE_KEYS) : {};
  const fileInput = file && { path: file.path, values: fileValues };
  const pick = makePick<ServeSettingKey>(SERVE_SETTINGS, flags, env, fileInput);

  const backend = parseBackend(pick('backend'));
  assertSettingsBelongTo(backend, SERVE_SETTINGS, pick, SERVE_COUNTERPARTS);
  const aws = isAwsBackend(backend);
  const requestQueueUrl = aws ? optional(pick('requestQueueUrl'), parseRequestQueueUrl) : undefined;
  // Both queue backends read a queue: with sns-sqs, the one subscribed to the request topic.
  if (aws && requestQueueUrl === undefined) throw missingRequestQueueUrlError(backend);
  const http = isWebhookBackend(backend) ? resolveServeHttp(backend, pick) : undefined;
  const upstream = resolveUpstream(backend, flags, fileInput, pick);

  return {
    backend,
    requestQueueUrl,
    http,
    signingSecret: optional(pick('signingSecret'), parseSigningSecret),
    upstream,
    maxSessions: optional(pick('maxSessions'), parseMaxSessions) ?? 100,
    sessionIdleTimeoutMs:
      (optional(pick('sessionIdleTimeout'), (raw) => parseSeconds(raw, 'session idle timeout')) ?? 1_800) *
      1000,
    requestTimeoutMs:
      (optional(pick('requestTimeout'), (raw) => parseSeconds(raw, 'request timeout')) ?? 300) * 1000,
    maxInFlightPerSession:
      (backend === 'hybrid'
        ? undefined
        : optional(pick('maxInFlightPerSession'), parseMaxInFlightPerSession)) ??
      SESSION_DEFAULTS.maxInFlightPerSession,
    deadLetterQueueUrl: aws
      ? optional(pick('deadLetterQueueUrl'), (raw) =>
          parseUrl(
            raw,
            'dead-letter queue URL',
            'an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/my-dlq',
          ),
        )
      : undefined,
    allowedResponseQueues: aws
      ? optional(pick('allowedResponseQueues'), (raw) =>
          parseList(raw, 'allowed response queue', parseResponseDestination),
        )
      : undefined,
    releaseUnknownSessions: aws
      ? (optional(pick('releaseUnknownSessions'), parseReleaseUnknownSessions) ?? 0)
      : 0,
    ...resolveWorkerSettings(aws, pick),
    childEnvironment: resolveChildEnvironment(upstream, pick),
    region: aws ? resolveRegion(pick('region'), [requestQueueUrl]) : undefined,
    endpointUrl: aws ? optional(pick('endpointUrl'), parseEndpointUrl) : undefined,
    logLevel: optional(pick('logLevel'), parseLogLevel) ?? 'info',
    configFile: file?.path,
  };
}

/** How several serve workers share a request queue: inboxes, liveness, or no sessions at all. */
function resolveWorkerSettings(
  aws: boolean,
  pick: (key: ServeSettingKey) => Raw | undefined,
): Pick<
  ServeConfig,
  'inbox' | 'aliveIntervalSeconds' | 'stateless' | 'bindSessionsToSender' | 'visibilityTimeoutSeconds'
> {
  const stateless =
    aws && (optional(pick('stateless'), (raw) => parseBoolean(raw, 'stateless switch')) ?? false);
  const inboxRaw = aws ? pick('inbox') : undefined;
  const inbox = optional(inboxRaw, parseInbox);
  if (stateless && inbox !== undefined && inbox !== 'none') {
    throw new GatewayConfigError(
      'invalid-value',
      `--inbox ${inbox === 'create' ? 'create' : inbox.queueUrl} cannot be used with --stateless: a stateless worker holds no session to send to it`,
    );
  }
  const bindSessionsToSender =
    optional(pick('bindSessionsToSender'), (raw) => parseBoolean(raw, 'bind-sessions-to-sender switch')) ??
    false;
  if (stateless && bindSessionsToSender) {
    throw new GatewayConfigError(
      'invalid-value',
      '--bind-sessions-to-sender cannot be used with --stateless: a stateless worker holds no session to bind',
    );
  }
  return {
    inbox: stateless || inbox === 'none' ? undefined : (inbox ?? (aws ? 'create' : undefined)),
    bindSessionsToSender,
    aliveIntervalSeconds: optional(pick('aliveInterval'), (raw) => parseSeconds(raw, 'alive interval')) ?? 3,
    stateless,
    visibilityTimeoutSeconds:
      optional(pick('visibilityTimeout'), (raw) =>
        parseInteger(raw, 'visibility timeout', 1, 43_200, 'a whole number of seconds from 1 to 43200'),
      ) ?? 30,
  };
}

function parseInbox(raw: Raw): 'create' | 'none' | { queueUrl: string } {
  const value = typeof raw.value === 'string' ? raw.value.trim() : raw.value;
  if (value === 'create' || value === 'none') return value;
  return {
    queueUrl: parseUrl(
      raw,
      'inbox',
      'create, none, or an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/worker-1',
    ),
  };
}

/** serve's HTTP endpoint for webhook and hybrid: a port is required, and hybrid needs its webhook tools. */
function resolveServeHttp(
  backend: 'webhook' | 'hybrid',
  pick: (key: ServeSettingKey) => Raw | undefined,
): ServeHttpConfig {
  const port = optional(pick('port'), parsePort);
  if (port === undefined) {
    throw new GatewayConfigError(
      'missing-port',
      `serve with the ${backend} backend needs the port to serve on: pass --port (0 picks a free one), set ASYNCMCP_PORT, or add port to the config file`,
    );
  }
  let webhookTools: string[] | undefined;
  if (backend === 'hybrid') {
    webhookTools = optional(pick('webhookTools'), (raw) => parseList(raw, 'webhook tool', parseToolName));
    if (webhookTools === undefined || webhookTools.length === 0) {
      throw new GatewayConfigError(
        'missing-webhook-tools',
        'serve with the hybrid backend needs the tools whose answers go to the webhook: pass --webhook-tool <name> (repeatable), set ASYNCMCP_WEBHOOK_TOOL, or add webhookTools to the config file',
      );
    }
  }
  return {
    port,
    host: optional(pick('host'), parseHost) ?? '127.0.0.1',
    path: optional(pick('path'), parsePath) ?? (backend === 'hybrid' ? '/mcp' : '/mcp/request'),
    allowPrivateNetworks:
      optional(pick('allowPrivateNetworks'), (raw) => parseBoolean(raw, 'allow-private-networks switch')) ??
      false,
    allowedWebhookHosts: optional(pick('allowedWebhookHosts'), (raw) =>
      parseList(raw, 'webhook host', parseWebhookHost),
    ),
    webhookTools,
  };
}

interface CommandChoice {
  command: string;
  args: string[];
  source: Source;
}

/** How strong a source is: a flag beats the environment, which beats the file. */
function strength(source: Source): number {
  return source.kind === 'flag' ? 2 : source.kind === 'env' ? 1 : 0;
}

function resolveUpstream(
  backend: BackendName,
  flags: ServeFlagValues,
  file: { path: string; values: Record<string, unknown> } | undefined,
  pick: (key: ServeSettingKey) => Raw | undefined,
): ServeUpstream {
  const command = commandFromFlags(flags.command) ?? (file && commandFromFile(file));
  const urlRaw = pick('upstreamUrl');
  const headersRaw = pick('upstreamHeaders');

  if (command !== undefined && urlRaw !== undefined) {
    if (strength(command.source) === strength(urlRaw.source)) {
      const where =
        command.source.kind === 'file' ? `config file "${command.source.path}"` : 'the command line';
      throw new GatewayConfigError(
        'conflicting-upstream',
        `serve takes one MCP server, but ${where} names both a command and an upstream URL: keep the command or the upstream URL`,
      );
    }
  }
  const useCommand =
    command !== undefined && (urlRaw === undefined || strength(command.source) > strength(urlRaw.source));
  if (useCommand) {
    if (headersRaw !== undefined) {
      throw new GatewayConfigError(
        'invalid-value',
        `upstream headers (from ${describeSource(headersRaw.source)}) apply only to an upstream URL, but the server to serve is the command "${command.command}"; remove them, or serve --upstream-url instead`,
      );
    }
    return { kind: 'command', command: command.command, args: command.args };
  }
  if (urlRaw === undefined) {
    const example = isWebhookBackend(backend)
      ? `asyncmcp-proxy serve --backend ${backend} --port … -- node server.js`
      : 'asyncmcp-proxy serve --request-queue-url … -- node server.js';
    throw new GatewayConfigError(
      'missing-upstream',
      `serve needs the MCP server to serve: put its command after -- (${example}), or pass --upstream-url, set ASYNCMCP_UPSTREAM_URL, or add command or upstreamUrl to the config file`,
    );
  }
  return {
    kind: 'url',
    url: parseUrl(
      urlRaw,
      'upstream URL',
      'an http(s) URL of a Streamable HTTP MCP server, such as http://127.0.0.1:3000/mcp',
    ),
    headers: headersRaw === undefined ? {} : parseHeaders(headersRaw),
  };
}

/** `--env` and `--pass-environment`: they shape a command's children, so an upstream URL refuses them. */
function resolveChildEnvironment(
  upstream: ServeUpstream,
  pick: (key: ServeSettingKey) => Raw | undefined,
): ChildEnvironment {
  const variablesRaw = pick('env');
  const passRaw = pick('passEnvironment');
  if (upstream.kind === 'url') {
    const given = variablesRaw ?? passRaw;
    if (given !== undefined) {
      throw new GatewayConfigError(
        'invalid-value',
        `${given === variablesRaw ? '--env' : '--pass-environment'} (from ${describeSource(given.source)}) applies only to a command serve runs, but the server to serve is the upstream URL ${upstream.url}; remove it`,
      );
    }
  }
  return {
    passEnvironment: optional(passRaw, (raw) => parseBoolean(raw, 'pass-environment switch')) ?? false,
    variables: variablesRaw === undefined ? [] : parseChildVariables(variablesRaw),
  };
}

/** An environment variable name as POSIX shells take it. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `NAME=value` or `NAME` items: each flag whole (a value may hold commas), the environment variable
 * comma-separated, a file's list item by item or a mapping of names to values (null: serve's own value).
 * Values are never echoed in errors: they may be secrets.
 */
function parseChildVariables(raw: Raw): ChildEnvironment['variables'] {
  const expected = "NAME=value, or NAME alone to pass serve's own value";
  const refuse = (why: string) =>
    new GatewayConfigError(
      'invalid-value',
      `invalid --env from ${describeSource(raw.source)}: ${why}; expected ${expected}`,
    );
  const variables: ChildEnvironment['variables'] = [];
  const add = (name: string, value: string | undefined) => {
    if (!VARIABLE_NAME.test(name)) throw refuse(`"${name.slice(0, 64)}" is not a variable name`);
    if (value?.includes('\0')) throw refuse(`the value of ${name} holds a NUL`);
    variables.push(value === undefined ? { name } : { name, value });
  };
  const addItem = (item: string) => {
    const equals = item.indexOf('=');
    if (equals === -1) add(item.trim(), undefined);
    else add(item.slice(0, equals).trim(), item.slice(equals + 1));
  };
  const value = raw.value;
  if (raw.source.kind === 'flag' && Array.isArray(value)) {
    for (const item of value) if (typeof item === 'string' && item.trim() !== '') addItem(item);
  } else if (typeof value === 'string') {
    for (const part of value.split(',')) if (part.trim() !== '') addItem(part);
  } else if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item !== 'string') throw refuse('a list item is not a string');
      addItem(item);
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [name, itemValue] of Object.entries(value)) {
      if (itemValue === null) add(name, undefined);
      else if (typeof itemValue === 'string' || typeof itemValue === 'number') add(name, String(itemValue));
      else throw refuse(`the value of ${name} is not a string`);
    }
  } else {
    throw refuse('not a string, a list or a mapping');
  }
  return variables;
}

function commandFromFlags(words: readonly string[] | undefined): CommandChoice | undefined {
  if (words === undefined || words.length === 0) return undefined;
  const [command, ...args] = words;
  const source: Source = { kind: 'flag', flag: 'the command after --' };
  if (command === undefined || command.trim() === '') {
    throw new GatewayConfigError(
      'invalid-value',
      'invalid command "" from the command after --: expected a program such as node or npx',
    );
  }
  return { command, args, source };
}

/** `command: node` or `command: [node, server.js]`, with optional `args: [...]` appended. */
function commandFromFile(file: { path: string; values: Record<string, unknown> }): CommandChoice | undefined {
  const { command, args } = file.values;
  const source = (key: string): Source => ({ kind: 'file', key, path: file.path });
  const hasArgs = args !== undefined && args !== null;
  if (command === undefined || command === null) {
    if (hasArgs) {
      throw new GatewayConfigError(
        'invalid-value',
        `key args in config file "${file.path}" needs a command key too: add command: <program>`,
      );
    }
    return undefined;
  }
  const expected = 'a program such as node, or a list such as [node, server.js]';
  const words = Array.isArray(command) ? command : [command];
  const commandWords = words.map((word) =>
    commandWord(word, { value: command, source: source('command') }, expected),
  );
  const argWords = hasArgs
    ? (Array.isArray(args) ? args : [args]).map((word) =>
        commandWord(
          word,
          { value: args, source: source('args') },
          'a list of arguments such as [server.js, --verbose]',
        ),
      )
    : [];
  const [program, ...rest] = commandWords;
  if (program === undefined || program.trim() === '') {
    throw invalid('command', { value: command, source: source('command') }, expected);
  }
  return { command: program, args: [...rest, ...argWords], source: source('command') };
}

function commandWord(word: unknown, raw: Raw, expected: string): string {
  if (typeof word === 'string') return word;
  if ((typeof word === 'number' && Number.isFinite(word)) || typeof word === 'boolean') return String(word);
  throw invalid(raw.source.kind === 'file' ? raw.source.key : 'command', raw, expected);
}

/**
 * Upstream headers as `Name: value`: one per flag, a list or a `{ Name: value }` mapping in the file,
 * comma-separated in the environment (a comma followed by `Name:` starts the next header, so values may
 * hold commas). Values are secrets as often as not, so errors never echo them. Repeated names join
 * with ", " as HTTP does.
 */
function parseHeaders(raw: Raw): Record<string, string> {
  const expected = 'a header such as "Authorization: Bearer <token>"';
  const refuse = (why: string) =>
    new GatewayConfigError(
      'invalid-value',
      `invalid upstream header from ${describeSource(raw.source)}: ${why}; expected ${expected}`,
    );
  const pairs: Array<[string, string]> = [];
  const addLine = (line: string) => {
    const colon = line.indexOf(':');
    if (colon === -1) throw refuse('no ":" between name and value');
    addPair(line.slice(0, colon), line.slice(colon + 1));
  };
  const addPair = (name: string, value: string) => {
    const trimmedName = name.trim();
    if (!HEADER_NAME.test(trimmedName)) throw refuse(`"${trimmedName}" is not a header name`);
    if (/[\r\n\0]/.test(value)) throw refuse(`the value of ${trimmedName} holds a line break`);
    pairs.push([trimmedName, value.trim()]);
  };
  const splitJoined = (text: string) => text.split(/,(?=\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*:)/);

  const value = raw.value;
  if (raw.source.kind === 'flag' && Array.isArray(value)) {
    for (const item of value) if (typeof item === 'string' && item.trim() !== '') addLine(item);
  } else if (typeof value === 'string') {
    for (const part of splitJoined(value)) if (part.trim() !== '') addLine(part);
  } else if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item !== 'string') throw refuse('a list item is not a string');
      addLine(item);
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [name, headerValue] of Object.entries(value)) {
      if (typeof headerValue !== 'string' && typeof headerValue !== 'number') {
        throw refuse(`the value of ${name} is not a string`);
      }
      addPair(name, String(headerValue));
    }
  } else {
    throw refuse('not a string, a list or a mapping');
  }

  const headers: Record<string, string> = {};
  const spelling = new Map<string, string>();
  for (const [name, headerValue] of pairs) {
    const known = spelling.get(name.toLowerCase());
    if (known === undefined) {
      spelling.set(name.toLowerCase(), name);
      headers[name] = headerValue;
    } else {
      headers[known] = `${headers[known]}, ${headerValue}`;
    }
  }
  return headers;
}
