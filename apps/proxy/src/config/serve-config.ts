import { regionOfResources } from '../aws-region.js';
import {
  type AwsBackendName,
  type BackendName,
  isAwsBackend,
  type LogLevel,
  type WebhookBackendName,
} from './backend-names.js';
import { parseConfigFile } from './config-file.js';
import { GatewayConfigError } from './errors.js';
import type { AwsClientConfig } from './gateway-config.js';
import { fileKeys } from './schema.js';
import { SERVE_FILE_ONLY_KEYS, SERVE_SETTINGS_TABLE, type ServeSettingKey } from './serve-settings.js';
import {
  type ChildEnvironment,
  resolveChildEnvironment,
  resolveUpstream,
  type ServeUpstream,
} from './serve-upstream.js';
import {
  assertSettingsBelongTo,
  type Counterparts,
  readSettings,
  type SettingsReader,
} from './settings-reader.js';
import type { Environment, FlagValue } from './sources.js';

/** What every serve configuration has, whatever the backend. */
export interface ServeCommonConfig {
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
  /** A command's child processes: what of serve's environment they get. */
  childEnvironment: ChildEnvironment;
  // A queue worker's settings (sqs, sns-sqs); webhook and hybrid hold their defaults.
  deadLetterQueueUrl: string | undefined;
  /**
   * Response destinations clients may name besides the request queue's endpoint and account (queue URL
   * prefixes, topic ARNs); see `SqsSessionManagerOptions.allowedResponseDestinations`.
   */
  allowedResponseQueues: string[] | undefined;
  /**
   * How many receives of a request for a session this serve does not hold hand it back to the queue,
   * for the worker holding it; 0 deletes it at once (one serve per queue).
   */
  releaseUnknownSessions: number;
  /** How often a running request's client hears that the worker is alive. */
  aliveIntervalSeconds: number;
  /** Any worker answers any request; no session is held. */
  stateless: boolean;
  /** sqs: a session takes messages only from the SQS SenderId of its `initialize`. */
  bindSessionsToSender: boolean;
  /** Visibility of a received request, extended while it runs. */
  visibilityTimeoutSeconds: number;
  logLevel: LogLevel;
  /** The config file that was read, if any. */
  configFile: string | undefined;
}

/** serve on a queue (sqs, sns-sqs): a worker reading the request queue. */
export interface ServeQueueConfig extends ServeCommonConfig, AwsClientConfig {
  backend: AwsBackendName;
  /** The queue serve reads (with sns-sqs, the one subscribed to the request topic). */
  requestQueueUrl: string;
  http?: undefined;
  /** This worker's own queue, or none; see `SqsSessionManagerOptions.inbox`. */
  inbox: 'create' | { queueUrl: string } | undefined;
}

/** serve on HTTP (webhook, hybrid): an endpoint of its own, answering on each client's webhook. */
export interface ServeHttpBackendConfig extends ServeCommonConfig {
  backend: WebhookBackendName;
  http: ServeHttpConfig;
  // No queue: no request queue, no inbox, no AWS client.
  requestQueueUrl?: undefined;
  inbox?: undefined;
  region?: undefined;
  endpointUrl?: undefined;
}

export type ServeConfig = ServeQueueConfig | ServeHttpBackendConfig;

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

type ServeReader = SettingsReader<typeof SERVE_SETTINGS_TABLE>;

/** serve's: a queue backend reads a queue where the HTTP backends listen on a port. */
const SERVE_COUNTERPARTS: Counterparts = {
  requestQueueUrl: { webhook: '--port', hybrid: '--port' },
  port: { sqs: '--request-queue-url', 'sns-sqs': '--request-queue-url' },
};

/**
 * `serve`'s settings, by the gateway's rules (flags > env > file > defaults, one-line errors). The server
 * to serve is a command (after `--`, or `command`/`args` in the file) or an upstream URL: exactly one
 * from the strongest place that names either; both from the same place is an error.
 */
export function resolveServeConfig({ flags, env, file }: ResolveServeConfigInput): ServeConfig {
  const keys = fileKeys(SERVE_SETTINGS_TABLE, SERVE_FILE_ONLY_KEYS);
  const values = file ? parseConfigFile(file.path, file.contents, keys) : {};
  const fileValues = file && { path: file.path, values };
  const { command, ...settingFlags } = flags;
  const read = readSettings(SERVE_SETTINGS_TABLE, settingFlags, env, fileValues);

  const backend = read.value('backend', 'sqs');
  assertSettingsBelongTo(backend, SERVE_SETTINGS_TABLE, read, SERVE_COUNTERPARTS);
  // Both queue backends read a queue: with sns-sqs, the one subscribed to the request topic.
  const requestQueueUrl = isAwsBackend(backend) ? read.required('requestQueueUrl', backend) : undefined;
  const http = isAwsBackend(backend) ? undefined : resolveServeHttp(backend, read);
  const upstream = resolveUpstream(backend, command, fileValues, read);
  const common: ServeCommonConfig = {
    signingSecret: read.given('signingSecret'),
    upstream,
    maxSessions: read.value('maxSessions', backend),
    sessionIdleTimeoutMs: read.value('sessionIdleTimeout', backend) * 1000,
    requestTimeoutMs: read.value('requestTimeout', backend) * 1000,
    maxInFlightPerSession: read.value('maxInFlightPerSession', backend),
    ...resolveWorkerDefaults(read, backend),
    childEnvironment: { passEnvironment: false, variables: [] },
    logLevel: 'info',
    configFile: file?.path,
  };
  if (http !== undefined) {
    const httpConfig: ServeHttpBackendConfig = {
      ...common,
      backend: backend as WebhookBackendName,
      requestQueueUrl: undefined,
      http,
      inbox: undefined,
      region: undefined,
      endpointUrl: undefined,
    };
    return finish(httpConfig, read, backend);
  }
  return finish(
    { ...common, ...resolveQueueWorker(read, backend as AwsBackendName, requestQueueUrl!, common) },
    read,
    backend,
  );
}

/** The settings read last, as they always were: the children's environment and the log level. */
function finish<C extends ServeConfig>(config: C, read: ServeReader, backend: BackendName): C {
  config.childEnvironment = resolveChildEnvironment(config.upstream, read);
  if (config.backend === 'sqs' || config.backend === 'sns-sqs') {
    const queue = config as ServeQueueConfig;
    queue.region = read.given('region') ?? regionOfResources([queue.requestQueueUrl]);
    queue.endpointUrl = read.given('endpointUrl');
  }
  config.logLevel = read.value('logLevel', backend);
  return config;
}

type WorkerSettings = Pick<
  ServeCommonConfig,
  | 'deadLetterQueueUrl'
  | 'allowedResponseQueues'
  | 'releaseUnknownSessions'
  | 'aliveIntervalSeconds'
  | 'stateless'
  | 'bindSessionsToSender'
  | 'visibilityTimeoutSeconds'
>;

/**
 * A queue worker's settings: dead letters, answers, and how several workers share a request queue.
 * Read for every backend, as they always were; a backend they do not belong to keeps their defaults.
 */
function resolveWorkerDefaults(read: ServeReader, backend: BackendName): WorkerSettings {
  const stateless = read.value('stateless', backend);
  const bindSessionsToSender = read.value('bindSessionsToSender', backend);
  return {
    deadLetterQueueUrl: isAwsBackend(backend) ? read.given('deadLetterQueueUrl') : undefined,
    allowedResponseQueues: isAwsBackend(backend) ? read.given('allowedResponseQueues') : undefined,
    releaseUnknownSessions: read.value('releaseUnknownSessions', backend),
    aliveIntervalSeconds: read.value('aliveInterval', backend),
    stateless,
    bindSessionsToSender,
    visibilityTimeoutSeconds: read.value('visibilityTimeout', backend),
  };
}

/** A queue worker's own: its request queue and inbox, checked against statelessness. */
function resolveQueueWorker(
  read: ServeReader,
  backend: AwsBackendName,
  requestQueueUrl: string,
  { stateless, bindSessionsToSender }: WorkerSettings,
): Pick<ServeQueueConfig, 'backend' | 'requestQueueUrl' | 'inbox' | 'region' | 'endpointUrl'> {
  const inbox = read.given('inbox');
  if (stateless && inbox !== undefined && inbox !== 'none') {
    throw new GatewayConfigError(
      'invalid-value',
      `--inbox ${inbox === 'create' ? 'create' : inbox.queueUrl} cannot be used with --stateless: a stateless worker holds no session to send to it`,
    );
  }
  if (stateless && bindSessionsToSender) {
    throw new GatewayConfigError(
      'invalid-value',
      '--bind-sessions-to-sender cannot be used with --stateless: a stateless worker holds no session to bind',
    );
  }
  const chosenInbox = inbox ?? read.value('inbox', backend);
  return {
    backend,
    requestQueueUrl,
    inbox: stateless || chosenInbox === 'none' ? undefined : chosenInbox,
    region: undefined,
    endpointUrl: undefined,
  };
}

/** serve's HTTP endpoint for webhook and hybrid: a port is required, and hybrid needs its webhook tools. */
function resolveServeHttp(backend: WebhookBackendName, read: ServeReader): ServeHttpConfig {
  const port = read.required('port', backend);
  const webhookTools = backend === 'hybrid' ? read.required('webhookTools', backend) : undefined;
  return {
    port,
    host: read.value('host', backend),
    path: read.value('path', backend),
    allowPrivateNetworks: read.value('allowPrivateNetworks', backend),
    allowedWebhookHosts: read.given('allowedWebhookHosts'),
    webhookTools,
  };
}
