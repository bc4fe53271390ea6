import type { ProxyHttpLimits } from '@asyncmcp/proxy';
import { isLoopbackHost } from '@asyncmcp/proxy';
import { regionOfResources } from '../aws-region.js';
import type { BackendName, LogLevel } from './backend-names.js';
import { parseConfigFile } from './config-file.js';
import { GatewayConfigError } from './errors.js';
import { GATEWAY_SETTINGS, type GatewaySettingKey } from './gateway-settings.js';
import { fileKeys } from './schema.js';
import {
  assertSettingsBelongTo,
  type Counterparts,
  readSettings,
  type SettingsReader,
} from './settings-reader.js';
import { describeSource, type Environment, type FlagValue, fromUnlessFlag, type Raw } from './sources.js';

/**
 * Turns flags, environment variables and a config file into one validated `GatewayConfig`.
 * Pure: the caller hands in the flag values, the environment and the file's text, so every rule here
 * is unit-tested without processes. Precedence: flags > env > file > defaults.
 */

/** The AWS clients' settings, for the backends on queues. */
export interface AwsClientConfig {
  /**
   * From a flag, the environment or the file; else the region the request queue URL or topic ARN names;
   * undefined lets the AWS SDK find it itself (shared config profile).
   */
  region: string | undefined;
  endpointUrl: string | undefined;
}

/** No setting of the webhook backends (for the union's other members, so each reads as absent). */
interface NoWebhookSettings {
  serverUrl?: undefined;
  webhookBaseUrl?: undefined;
  webhookPath?: undefined;
}

export interface SqsGatewayBackend extends AwsClientConfig, NoWebhookSettings {
  backend: 'sqs';
  /** The queue the servers read. */
  requestQueueUrl: string;
  /** The queue answers come back on; undefined lets the backend make one. */
  responseQueueUrl: string | undefined;
  /** The lease on a response queue the backend makes, in seconds. */
  responseQueueLeaseSeconds: number;
  requestTopicArn?: undefined;
  responseTopicArn?: undefined;
}

export interface SnsSqsGatewayBackend extends AwsClientConfig, NoWebhookSettings {
  backend: 'sns-sqs';
  /** The topic the servers receive from. */
  requestTopicArn: string;
  /** The topic servers publish answers to; undefined lets the backend make one. */
  responseTopicArn: string | undefined;
  /** The queue subscribed to the response topic; undefined lets the backend make one. */
  responseQueueUrl: string | undefined;
  /** The lease on a response queue the backend makes, in seconds. */
  responseQueueLeaseSeconds: number;
  requestQueueUrl?: undefined;
}

export interface WebhookGatewayBackend {
  backend: 'webhook' | 'hybrid';
  /** The async MCP server's endpoint. */
  serverUrl: string;
  /**
   * Where the server reaches this gateway instance (no trailing slash). Undefined: the gateway's own
   * listening address, known once it listens; only allowed when `host` is loopback.
   */
  webhookBaseUrl: string | undefined;
  /** Where webhooks are received (`/webhooks`). */
  webhookPath: string;
  requestQueueUrl?: undefined;
  responseQueueUrl?: undefined;
  responseQueueLeaseSeconds?: undefined;
  requestTopicArn?: undefined;
  responseTopicArn?: undefined;
  region?: undefined;
  endpointUrl?: undefined;
}

/** What the backend of the gateway is, with what it requires present. */
export type GatewayBackendConfig = SqsGatewayBackend | SnsSqsGatewayBackend | WebhookGatewayBackend;

export interface GatewayCommonConfig {
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
  logLevel: LogLevel;
  /** The config file that was read, if any. */
  configFile: string | undefined;
}

export type GatewayConfig = GatewayCommonConfig & GatewayBackendConfig;

/** Flag values as the command-line parser gives them: strings, lists for repeatable flags, `true` for switches. */
export type FlagValues = Partial<Record<GatewaySettingKey, FlagValue>> & {
  config?: string;
};

export interface ResolveConfigInput {
  flags: FlagValues;
  env: Environment;
  /** The config file named by `--config` or ASYNCMCP_CONFIG, already read. */
  file?: { path: string; contents: string };
}

type GatewayReader = SettingsReader<typeof GATEWAY_SETTINGS>;

const COUNTERPARTS: Counterparts = {
  requestQueueUrl: { 'sns-sqs': '--request-topic-arn', webhook: '--server-url', hybrid: '--server-url' },
  requestTopicArn: { sqs: '--request-queue-url', webhook: '--server-url', hybrid: '--server-url' },
  serverUrl: { sqs: '--request-queue-url', 'sns-sqs': '--request-topic-arn' },
};

/** Where the gateway listens, which the webhook backends' settings are checked against. */
interface Listening {
  host: string;
  hostRaw: Raw | undefined;
  path: string;
}

/** Another backend's settings, present as undefined so that every configuration has the same keys. */
const NO_WEBHOOK_SETTINGS = {
  serverUrl: undefined,
  webhookBaseUrl: undefined,
  webhookPath: undefined,
} as const;
const NO_SNS_SETTINGS = { requestTopicArn: undefined, responseTopicArn: undefined } as const;

/** Each backend's part of the configuration: the one place the gateway's settings branch on the backend. */
const GATEWAY_BACKENDS: {
  [B in BackendName]: (read: GatewayReader, listening: Listening) => GatewayBackendConfig & { backend: B };
} = {
  sqs: (read) => {
    const requestQueueUrl = read.required('requestQueueUrl', 'sqs');
    const responseQueueUrl = read.given('responseQueueUrl');
    return {
      backend: 'sqs',
      requestQueueUrl,
      responseQueueUrl,
      responseQueueLeaseSeconds: responseQueueLease(read, 'sqs', responseQueueUrl),
      ...awsClient(read, [requestQueueUrl, responseQueueUrl]),
      ...NO_SNS_SETTINGS,
      ...NO_WEBHOOK_SETTINGS,
    };
  },
  'sns-sqs': (read) => {
    const requestTopicArn = read.required('requestTopicArn', 'sns-sqs');
    const responseQueueUrl = read.given('responseQueueUrl');
    const responseTopicArn = read.given('responseTopicArn');
    return {
      backend: 'sns-sqs',
      requestTopicArn,
      responseTopicArn,
      responseQueueUrl,
      responseQueueLeaseSeconds: responseQueueLease(read, 'sns-sqs', responseQueueUrl),
      ...awsClient(read, [requestTopicArn, responseQueueUrl, responseTopicArn]),
      requestQueueUrl: undefined,
      ...NO_WEBHOOK_SETTINGS,
    };
  },
  webhook: (read, listening) => webhookBackend('webhook', read, listening),
  hybrid: (read, listening) => webhookBackend('hybrid', read, listening),
};

export function resolveConfig({ flags, env, file }: ResolveConfigInput): GatewayConfig {
  const values = file ? parseConfigFile(file.path, file.contents, fileKeys(GATEWAY_SETTINGS)) : {};
  const read = readSettings(GATEWAY_SETTINGS, flags, env, file && { path: file.path, values });

  const backend = read.value('backend', 'sqs');
  assertSettingsBelongTo(backend, GATEWAY_SETTINGS, read, COUNTERPARTS);
  const host = read.value('host', backend);
  const path = read.value('path', backend);
  const backendConfig = GATEWAY_BACKENDS[backend](read, { host, hostRaw: read.raw('host'), path });
  const authToken = read.given('authToken');
  const stdio = read.value('stdio', backend);
  const limits = resolveGatewayLimits(read, backend);
  // stdio serves MCP on stdin/stdout: --host binds only a webhook receiver there, which checks signatures.
  if (!stdio) assertAuthForHost(host, read.raw('host'), authToken, limits.insecureNoAuth);

  return {
    ...backendConfig,
    signingSecret: read.given('signingSecret'),
    port: read.value('port', backend),
    host,
    path,
    authToken,
    corsOrigins: read.value('corsOrigins', backend),
    allowedHosts: read.given('allowedHosts'),
    allowedOrigins: read.given('allowedOrigins'),
    maxSessions: read.value('maxSessions', backend),
    sessionIdleTimeoutMs: read.value('sessionIdleTimeout', backend) * 1000,
    requestTimeoutMs: read.value('requestTimeout', backend) * 1000,
    jsonResponse: read.value('jsonResponse', backend),
    stdio,
    ...limits,
    logLevel: read.value('logLevel', backend),
    configFile: file?.path,
  };
}

/** The region as configured (flag > environment > file); else the one the queue URL or topic ARN names. */
function awsClient(read: GatewayReader, resources: ReadonlyArray<string | undefined>): AwsClientConfig {
  return {
    region: read.given('region') ?? regionOfResources(resources),
    endpointUrl: read.given('endpointUrl'),
  };
}

/**
 * The lease on the response queue the gateway makes. A queue it is given is the user's and carries no
 * lease, so a lease given with it would be silently ignored: refused instead.
 */
function responseQueueLease(
  read: GatewayReader,
  backend: 'sqs' | 'sns-sqs',
  responseQueueUrl: string | undefined,
): number {
  const lease = read.raw('responseQueueLease');
  if (lease !== undefined && responseQueueUrl !== undefined) {
    throw new GatewayConfigError(
      'invalid-value',
      `--response-queue-lease${fromUnlessFlag(lease)} applies to a response queue the gateway makes, and --response-queue-url${fromUnlessFlag(read.raw('responseQueueUrl'))} gives it one: remove one of them`,
    );
  }
  return read.value('responseQueueLease', backend);
}

/** The gateway's limits on what one client may hold: requests, connections, time; and who may connect. */
function resolveGatewayLimits(
  read: GatewayReader,
  backend: BackendName,
): Pick<GatewayConfig, 'maxInFlightPerSession' | 'publicMetrics' | 'insecureNoAuth' | 'http'> {
  const milliseconds = (key: 'httpHeadersTimeout' | 'httpRequestTimeout' | 'httpKeepAliveTimeout') =>
    Math.max(1, Math.round(read.value(key, backend) * 1000));
  const http = {
    headersTimeoutMs: milliseconds('httpHeadersTimeout'),
    requestTimeoutMs: milliseconds('httpRequestTimeout'),
    keepAliveTimeoutMs: milliseconds('httpKeepAliveTimeout'),
    maxConnections: read.value('maxConnections', backend),
  };
  // The one rule the parsers cannot see alone: the headers are part of the request.
  if (http.headersTimeoutMs > http.requestTimeoutMs) {
    throw new GatewayConfigError(
      'invalid-value',
      `the HTTP headers timeout (${http.headersTimeoutMs / 1000} s) must not be longer than the HTTP request timeout (${http.requestTimeoutMs / 1000} s): change --http-headers-timeout or --http-request-timeout`,
    );
  }
  return {
    maxInFlightPerSession: read.value('maxInFlightPerSession', backend),
    publicMetrics: read.value('publicMetrics', backend),
    insecureNoAuth: read.value('insecureNoAuth', backend),
    http,
  };
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
  throw new GatewayConfigError(
    'missing-auth-token',
    `--host ${host}${fromUnlessFlag(hostRaw)} exposes the gateway to the network without a bearer token: set one with --auth-token (or ASYNCMCP_AUTH_TOKEN), or pass --insecure-no-auth (or ASYNCMCP_INSECURE_NO_AUTH=true) if something in front of the gateway authenticates its clients`,
  );
}

// ---- webhook and hybrid ----

function webhookBackend<B extends 'webhook' | 'hybrid'>(
  backend: B,
  read: GatewayReader,
  { host, hostRaw, path }: Listening,
): WebhookGatewayBackend & { backend: B } {
  const serverUrl = read.required('serverUrl', backend);
  const webhookBaseUrl = read.given('webhookBaseUrl');
  if (webhookBaseUrl === undefined && !isLoopbackHost(host)) {
    throw new GatewayConfigError(
      'missing-webhook-base-url',
      `the ${backend} backend needs the URL at which the server reaches this gateway, since --host ${host}${fromUnlessFlag(hostRaw)} is not loopback: pass --webhook-base-url (such as http://gateway-1.internal:8080), set ASYNCMCP_WEBHOOK_BASE_URL, or add webhookBaseUrl to the config file`,
    );
  }
  const webhookPath = read.value('webhookPath', backend);
  assertPathsApart(webhookPath, read.raw('webhookPath'), path);
  return {
    backend,
    serverUrl,
    webhookBaseUrl,
    webhookPath,
    requestQueueUrl: undefined,
    responseQueueUrl: undefined,
    responseQueueLeaseSeconds: undefined,
    ...NO_SNS_SETTINGS,
    region: undefined,
    endpointUrl: undefined,
  };
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
  const defaultPath = GATEWAY_SETTINGS.webhookPath.default;
  for (const other of [endpoint, ...GATEWAY_ROUTES]) {
    if (!within(other, webhookPath) && !within(webhookPath, other)) continue;
    const what = other === endpoint ? `the MCP endpoint ${mcpPath}` : `the gateway's ${other}`;
    throw new GatewayConfigError(
      'invalid-value',
      `the webhook path ${webhookPath}${raw === undefined ? '' : ` (from ${describeSource(raw.source)})`} overlaps ${what}: choose another --webhook-path, such as ${webhookPath === defaultPath ? '/asyncmcp-webhooks' : defaultPath}`,
    );
  }
}
