import { SESSION_DEFAULTS } from '@asyncmcp/core';
import { PROXY_DEFAULTS } from '@asyncmcp/proxy';

/**
 * The gateway's settings, one table: the CLI builds its flags and help from it, the config module reads
 * environment variables and file keys by it, and the README mirrors it.
 */

export const BACKEND_NAMES = ['sqs', 'sns-sqs', 'webhook', 'hybrid'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/**
 * Backends this version can run. Every accepted name is available now; the list stays so that a name
 * accepted ahead of its backend fails with a clear message.
 */
export const AVAILABLE_BACKENDS = [
  'sqs',
  'sns-sqs',
  'webhook',
  'hybrid',
] as const satisfies readonly BackendName[];
export type AvailableBackendName = (typeof AVAILABLE_BACKENDS)[number];

export function isAvailableBackend(name: BackendName): name is AvailableBackendName {
  return (AVAILABLE_BACKENDS as readonly BackendName[]).includes(name);
}

/** The backends on AWS queues (and topics): region and endpoint apply to them. */
export const AWS_BACKENDS = ['sqs', 'sns-sqs'] as const satisfies readonly BackendName[];
/** The backends on HTTP: the server POSTs to a webhook of the gateway. */
export const WEBHOOK_BACKENDS = ['webhook', 'hybrid'] as const satisfies readonly BackendName[];

export function isAwsBackend(name: BackendName): name is (typeof AWS_BACKENDS)[number] {
  return (AWS_BACKENDS as readonly BackendName[]).includes(name);
}

export function isWebhookBackend(name: BackendName): name is (typeof WEBHOOK_BACKENDS)[number] {
  return (WEBHOOK_BACKENDS as readonly BackendName[]).includes(name);
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface SettingSpec {
  /** The config-file key; also the key of `FlagValues`. */
  readonly key: string;
  readonly flag: `--${string}`;
  /** The value placeholder in help; absent for a boolean switch. */
  readonly value?: string;
  /** Environment variables, strongest first. */
  readonly env: readonly string[];
  readonly list?: boolean;
  readonly description: string;
  /** The default as help shows it; absent when there is none. */
  readonly defaultText?: string;
  /**
   * The backends the setting belongs to; absent when it applies to every backend. Given with another
   * backend, it is a configuration error that names the backends it belongs to — except from an
   * environment variable of another tool (AWS_REGION, PORT …), which is ignored: it is there for others.
   */
  readonly backends?: readonly BackendName[];
  /**
   * Set in the environment, it is a deployment's setting for every command that reads it (the image sets
   * ASYNCMCP_HOST for the gateway and `serve` alike), so a backend it does not apply to ignores it
   * instead of refusing it. From a flag or the file it is still refused.
   */
  readonly sharedInEnvironment?: boolean;
}

/** Every gateway setting: the CLI builds its options and help from this table, the README mirrors it. */
export const SETTINGS = [
  {
    key: 'backend',
    flag: '--backend',
    value: '<name>',
    env: ['ASYNCMCP_BACKEND', 'BACKEND_TRANSPORT'],
    description:
      'where sessions are forwarded: sqs, sns-sqs (also sns_sqs), webhook (MCP over webhooks) or hybrid (Streamable HTTP with webhook answers)',
    defaultText: 'sqs',
  },
  {
    key: 'requestQueueUrl',
    flag: '--request-queue-url',
    value: '<url>',
    env: ['ASYNCMCP_REQUEST_QUEUE_URL'],
    description: 'sqs: the SQS queue the async MCP server reads (required for the sqs backend)',
    backends: ['sqs'],
  },
  {
    key: 'responseQueueUrl',
    flag: '--response-queue-url',
    value: '<url>',
    env: ['ASYNCMCP_RESPONSE_QUEUE_URL'],
    description:
      'sqs, sns-sqs: the SQS queue answers come back on (with sns-sqs, subscribed to the response topic); one per gateway instance, never shared',
    defaultText: 'a queue the gateway creates, and deletes when it stops',
    backends: ['sqs', 'sns-sqs'],
  },
  {
    key: 'requestTopicArn',
    flag: '--request-topic-arn',
    value: '<arn>',
    env: ['ASYNCMCP_REQUEST_TOPIC_ARN'],
    description:
      'sns-sqs: the SNS topic the async MCP servers receive from, through their queues (required for the sns-sqs backend)',
    backends: ['sns-sqs'],
  },
  {
    key: 'responseTopicArn',
    flag: '--response-topic-arn',
    value: '<arn>',
    env: ['ASYNCMCP_RESPONSE_TOPIC_ARN'],
    description:
      "sns-sqs: the SNS topic servers publish answers to; gateway instances may share one (each instance's queue is filtered to its own sessions)",
    defaultText: 'a topic the gateway creates, and deletes when it stops',
    backends: ['sns-sqs'],
  },
  {
    key: 'serverUrl',
    flag: '--server-url',
    value: '<url>',
    env: ['ASYNCMCP_SERVER_URL'],
    description:
      "webhook, hybrid: the async MCP server's endpoint, e.g. http://mcp.internal:8000/mcp/request (webhook) or http://mcp.internal:8000/mcp (hybrid) (required for the webhook and hybrid backends)",
    backends: ['webhook', 'hybrid'],
  },
  {
    key: 'webhookBaseUrl',
    flag: '--webhook-base-url',
    value: '<url>',
    env: ['ASYNCMCP_WEBHOOK_BASE_URL'],
    description:
      "webhook, hybrid: the base URL at which the server reaches THIS gateway instance; each session's webhook is <url><webhook-path>/<session> (required when --host is not loopback)",
    defaultText: "the gateway's own listening address (loopback --host only: server on the same machine)",
    backends: ['webhook', 'hybrid'],
  },
  {
    key: 'webhookPath',
    flag: '--webhook-path',
    value: '<path>',
    env: ['ASYNCMCP_WEBHOOK_PATH'],
    description:
      'webhook, hybrid: where the gateway receives webhooks, one path below it per session; served without the Host, Origin and token checks of the MCP endpoint (the server calls it)',
    defaultText: '/webhooks',
    backends: ['webhook', 'hybrid'],
  },
  {
    key: 'signingSecret',
    flag: '--signing-secret',
    value: '<secret>',
    env: ['ASYNCMCP_SIGNING_SECRET'],
    description:
      'Standard Webhooks secret shared with the servers (base64 of 16 bytes or more, optionally whsec_-prefixed, as Standard Webhooks tools make them): sqs, sns-sqs: every message is signed, and answers without a valid signature are refused; webhook, hybrid: deliveries without a valid signature are refused, and with webhook the requests are signed too; never logged',
    defaultText: 'unsigned',
  },
  {
    key: 'port',
    flag: '--port',
    value: '<n>',
    env: ['ASYNCMCP_PORT', 'PORT'],
    description: 'HTTP port (0 picks a free one)',
    defaultText: '8080',
  },
  {
    key: 'host',
    flag: '--host',
    value: '<host>',
    env: ['ASYNCMCP_HOST'],
    description: 'interface to bind; anything but loopback exposes the gateway to the network',
    defaultText: '127.0.0.1',
  },
  {
    key: 'path',
    flag: '--path',
    value: '<path>',
    env: ['ASYNCMCP_PATH'],
    description: 'the MCP endpoint path',
    defaultText: '/mcp',
  },
  {
    key: 'authToken',
    flag: '--auth-token',
    value: '<token>',
    env: ['ASYNCMCP_AUTH_TOKEN', 'AUTH_TOKEN'],
    description: 'require "Authorization: Bearer <token>" on MCP requests (at least 8 characters)',
    defaultText: 'none',
  },
  {
    key: 'corsOrigins',
    flag: '--cors-origin',
    value: '<origin>',
    env: ['ASYNCMCP_CORS_ORIGIN'],
    list: true,
    description: 'browser origin allowed by CORS (and as Origin); repeatable, comma-separated in env',
    defaultText: 'none',
  },
  {
    key: 'allowedHosts',
    flag: '--allowed-host',
    value: '<host>',
    env: ['ASYNCMCP_ALLOWED_HOST'],
    list: true,
    description: 'accepted Host header name; repeatable, comma-separated in env',
    defaultText: 'loopback names when bound to loopback, any otherwise',
  },
  {
    key: 'allowedOrigins',
    flag: '--allowed-origin',
    value: '<origin>',
    env: ['ASYNCMCP_ALLOWED_ORIGIN'],
    list: true,
    description: 'accepted Origin header; repeatable, comma-separated in env',
    defaultText: 'loopback origins when bound to loopback, none otherwise',
  },
  {
    key: 'maxSessions',
    flag: '--max-sessions',
    value: '<n>',
    env: ['ASYNCMCP_MAX_SESSIONS'],
    description: 'most live sessions; a new one beyond it gets 503',
    defaultText: '1000',
  },
  {
    key: 'sessionIdleTimeout',
    flag: '--session-idle-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_SESSION_IDLE_TIMEOUT'],
    description: 'close sessions with no traffic and nothing running for this long',
    defaultText: '1800',
  },
  {
    key: 'requestTimeout',
    flag: '--request-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_REQUEST_TIMEOUT'],
    description: 'a request the backend does not answer in this time gets a JSON-RPC error',
    defaultText: '300',
  },
  {
    key: 'maxInFlightPerSession',
    flag: '--max-in-flight-per-session',
    value: '<n>',
    env: ['ASYNCMCP_MAX_IN_FLIGHT_PER_SESSION'],
    description:
      "most requests of one session waiting for the backend at once; beyond it a request gets a JSON-RPC error at once, so one client cannot fill the backend's queue",
    defaultText: String(PROXY_DEFAULTS.maxInFlightPerSession),
  },
  {
    key: 'publicMetrics',
    flag: '--public-metrics',
    env: ['ASYNCMCP_PUBLIC_METRICS'],
    description:
      'serve /metrics without the bearer token even when --auth-token is set (for a scraper that cannot send it)',
    defaultText: 'false: with --auth-token, /metrics requires it',
  },
  {
    key: 'insecureNoAuth',
    flag: '--insecure-no-auth',
    env: ['ASYNCMCP_INSECURE_NO_AUTH'],
    description:
      'allow a --host other than loopback without --auth-token (only behind something that authenticates clients)',
    defaultText: 'false: such a --host without a token is refused',
  },
  {
    key: 'httpHeadersTimeout',
    flag: '--http-headers-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_HTTP_HEADERS_TIMEOUT'],
    description: 'a client must send its request headers within this time',
    defaultText: String(PROXY_DEFAULTS.http.headersTimeoutMs / 1000),
  },
  {
    key: 'httpRequestTimeout',
    flag: '--http-request-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_HTTP_REQUEST_TIMEOUT'],
    description:
      'a client must send its whole HTTP request (headers and body) within this time; answers and SSE streams are not limited by it',
    defaultText: String(PROXY_DEFAULTS.http.requestTimeoutMs / 1000),
  },
  {
    key: 'httpKeepAliveTimeout',
    flag: '--http-keep-alive-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_HTTP_KEEP_ALIVE_TIMEOUT'],
    description:
      "close an idle keep-alive connection after this long (behind a load balancer, longer than the balancer's idle timeout)",
    defaultText: String(PROXY_DEFAULTS.http.keepAliveTimeoutMs / 1000),
  },
  {
    key: 'maxConnections',
    flag: '--max-connections',
    value: '<n>',
    env: ['ASYNCMCP_MAX_CONNECTIONS'],
    description: 'most open HTTP connections; one beyond it is closed at once',
    defaultText: String(PROXY_DEFAULTS.http.maxConnections),
  },
  {
    key: 'jsonResponse',
    flag: '--json-response',
    env: ['ASYNCMCP_JSON_RESPONSE'],
    description:
      "answer each POST with one JSON body instead of an SSE stream: cheaper per call, but a call's answer cannot be resumed, and a server's messages during a call go on the session's GET stream",
    defaultText: 'false',
  },
  {
    key: 'stdio',
    flag: '--stdio',
    env: ['ASYNCMCP_STDIO'],
    description: 'serve one session on stdin/stdout instead of HTTP (logs go to stderr)',
    defaultText: 'false',
  },
  {
    key: 'region',
    flag: '--region',
    value: '<region>',
    env: ['ASYNCMCP_REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION'],
    description: 'sqs, sns-sqs: AWS region',
    defaultText:
      "the region the request queue URL or topic ARN names, else the AWS SDK's own lookup (shared config profile)",
    backends: ['sqs', 'sns-sqs'],
  },
  {
    key: 'endpointUrl',
    flag: '--endpoint-url',
    value: '<url>',
    env: ['ASYNCMCP_ENDPOINT_URL', 'AWS_ENDPOINT_URL'],
    description: 'sqs, sns-sqs: AWS endpoint for SQS (and SNS), e.g. a local emulator',
    defaultText: 'the AWS default for the region',
    backends: ['sqs', 'sns-sqs'],
  },
  {
    key: 'logLevel',
    flag: '--log-level',
    value: '<level>',
    env: ['ASYNCMCP_LOG_LEVEL'],
    description: `log level: ${LOG_LEVELS.join(', ')}`,
    defaultText: 'info',
  },
] as const satisfies readonly SettingSpec[];

export type SettingKey = (typeof SETTINGS)[number]['key'];

/** A gateway setting by key, for the serve table to share where the meaning is the same. */
function gatewaySetting<K extends SettingKey>(key: K): Extract<(typeof SETTINGS)[number], { key: K }> {
  return SETTINGS.find((setting) => setting.key === key) as Extract<(typeof SETTINGS)[number], { key: K }>;
}

/**
 * The settings of `asyncmcp-proxy serve`, which puts an existing MCP server (a stdio command, or a
 * Streamable HTTP URL) on an async transport: a request queue (sqs, sns-sqs) or an HTTP endpoint of its
 * own (webhook, hybrid). The command itself comes after `--`, or from the config file's `command` and
 * `args` keys (SERVE_FILE_ONLY_KEYS); it has no flag or environment variable.
 */
export const SERVE_SETTINGS = [
  {
    ...gatewaySetting('backend'),
    description:
      'where sessions come from: sqs, sns-sqs (also sns_sqs), webhook (an HTTP endpoint answering on webhooks) or hybrid (Streamable HTTP, with the answers of --webhook-tool tools on webhooks)',
  },
  {
    key: 'requestQueueUrl',
    flag: '--request-queue-url',
    value: '<url>',
    env: ['ASYNCMCP_REQUEST_QUEUE_URL'],
    description:
      'sqs, sns-sqs: the SQS queue serve reads: with sqs the queue clients and gateways send to, with sns-sqs the queue subscribed to the request topic (required)',
    backends: ['sqs', 'sns-sqs'],
  },
  {
    key: 'port',
    flag: '--port',
    value: '<n>',
    env: gatewaySetting('port').env,
    description: 'webhook, hybrid: HTTP port to serve on, 0 picks a free one (required)',
    backends: ['webhook', 'hybrid'],
  },
  {
    key: 'host',
    flag: '--host',
    value: '<host>',
    env: gatewaySetting('host').env,
    description:
      'webhook, hybrid: interface to bind; anything but loopback exposes the server to the network',
    defaultText: '127.0.0.1',
    backends: ['webhook', 'hybrid'],
    sharedInEnvironment: true,
  },
  {
    key: 'path',
    flag: '--path',
    value: '<path>',
    env: gatewaySetting('path').env,
    description: 'webhook, hybrid: the MCP endpoint path',
    defaultText: '/mcp/request with webhook, /mcp with hybrid',
    backends: ['webhook', 'hybrid'],
  },
  {
    key: 'webhookTools',
    flag: '--webhook-tool',
    value: '<name>',
    env: ['ASYNCMCP_WEBHOOK_TOOL'],
    list: true,
    description:
      "hybrid: a tool whose answers are POSTed to the client's webhook instead of its SSE stream; repeatable, comma-separated in env (at least one is required)",
    backends: ['hybrid'],
  },
  {
    ...gatewaySetting('signingSecret'),
    description:
      'Standard Webhooks secret shared with the clients (base64 of 16 bytes or more, optionally whsec_-prefixed, as Standard Webhooks tools make them): sqs, sns-sqs: every message is signed, and unsigned, stale, replayed or forged requests are refused; webhook, hybrid: deliveries are signed, and with webhook unsigned requests are refused; never logged',
  },
  {
    key: 'allowPrivateNetworks',
    flag: '--allow-private-networks',
    env: ['ASYNCMCP_ALLOW_PRIVATE_NETWORKS'],
    description:
      'webhook, hybrid: deliver to webhooks on loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7) and unspecified addresses; cloud metadata, link-local, multicast, reserved and tunnel (Teredo, local-use NAT64) addresses stay refused',
    defaultText: 'false',
    backends: ['webhook', 'hybrid'],
  },
  {
    key: 'allowedWebhookHosts',
    flag: '--allowed-webhook-host',
    value: '<host>',
    env: ['ASYNCMCP_ALLOWED_WEBHOOK_HOST'],
    list: true,
    description:
      'webhook, hybrid: deliver only to webhooks on this host (hooks.example.com, or *.example.com for its subdomains); repeatable, comma-separated in env',
    defaultText: 'any host the address checks allow',
    backends: ['webhook', 'hybrid'],
  },
  {
    key: 'upstreamUrl',
    flag: '--upstream-url',
    value: '<url>',
    env: ['ASYNCMCP_UPSTREAM_URL'],
    description:
      'serve this Streamable HTTP MCP server instead of a command; one upstream session per session',
  },
  {
    key: 'upstreamHeaders',
    flag: '--upstream-header',
    value: '<"Name: value">',
    env: ['ASYNCMCP_UPSTREAM_HEADER'],
    list: true,
    description: 'header on every request to --upstream-url; repeatable, comma-separated in env',
    defaultText: 'none',
  },
  {
    key: 'env',
    flag: '--env',
    value: '<NAME[=value]>',
    env: ['ASYNCMCP_ENV'],
    list: true,
    description:
      "a variable for the server's child processes: NAME=value sets it, NAME alone passes serve's own value; repeatable, comma-separated in env. Children get only these and a minimal environment (HOME, PATH, USER, SHELL, TERM, LOGNAME), never serve's token, signing secret or AWS keys",
    defaultText: 'none',
  },
  {
    key: 'passEnvironment',
    flag: '--pass-environment',
    env: ['ASYNCMCP_PASS_ENVIRONMENT'],
    description:
      "give the server's child processes serve's whole environment, secrets included (its AWS keys, signing secret …); only for a server trusted with them",
    defaultText: 'false',
  },
  {
    key: 'maxSessions',
    flag: '--max-sessions',
    value: '<n>',
    env: ['ASYNCMCP_MAX_SESSIONS'],
    description:
      'most live sessions, each one child process or upstream session; initialize beyond it gets a JSON-RPC error',
    defaultText: '100',
  },
  {
    key: 'sessionIdleTimeout',
    flag: '--session-idle-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_SESSION_IDLE_TIMEOUT'],
    description: 'end sessions (and their child processes) with no traffic and nothing running for this long',
    defaultText: '1800',
  },
  {
    key: 'requestTimeout',
    flag: '--request-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_REQUEST_TIMEOUT'],
    description: 'a request the server does not answer in this time gets a JSON-RPC error',
    defaultText: '300',
  },
  {
    key: 'maxInFlightPerSession',
    flag: '--max-in-flight-per-session',
    value: '<n>',
    env: ['ASYNCMCP_MAX_IN_FLIGHT_PER_SESSION'],
    description:
      'sqs, sns-sqs, webhook: most requests of one session running at once; beyond it a request gets a JSON-RPC error at once, so one session cannot take every slot of the worker',
    defaultText: String(SESSION_DEFAULTS.maxInFlightPerSession),
    backends: ['sqs', 'sns-sqs', 'webhook'],
    sharedInEnvironment: true,
  },
  {
    key: 'deadLetterQueueUrl',
    flag: '--dead-letter-queue-url',
    value: '<url>',
    env: ['ASYNCMCP_DEAD_LETTER_QUEUE_URL'],
    description:
      'sqs, sns-sqs: an SQS queue that keeps a copy of each request that cannot be parsed, or that is refused (--signing-secret, --bind-sessions-to-sender)',
    defaultText: 'none (such requests are deleted with a log line)',
    backends: ['sqs', 'sns-sqs'],
  },
  {
    key: 'allowedResponseQueues',
    flag: '--allowed-response-queue',
    value: '<prefix-or-arn>',
    env: ['ASYNCMCP_ALLOWED_RESPONSE_QUEUE'],
    list: true,
    description:
      "sqs, sns-sqs: a response destination a client may name besides the request queue's own endpoint and account: a queue URL prefix (https://sqs.eu-west-1.amazonaws.com/111122223333/replies-) or, with sns-sqs, a topic ARN (a trailing * makes it a prefix); repeatable, comma-separated in env. Others are refused: logged, dead-lettered or deleted, never answered",
    defaultText:
      "none: only queues on the request queue's endpoint and account (topics: its account and region)",
    backends: ['sqs', 'sns-sqs'],
  },
  {
    key: 'releaseUnknownSessions',
    flag: '--release-unknown-sessions',
    value: '<n>',
    env: ['ASYNCMCP_RELEASE_UNKNOWN_SESSIONS'],
    description:
      'sqs, sns-sqs: for several serve processes (workers) on one request queue: hand a request for a session another worker holds back to the queue, up to this many receives of it, so that worker can take it; 10 × the number of workers, say',
    defaultText: "0 (this serve is the queue's only reader: such requests are deleted)",
    backends: ['sqs', 'sns-sqs'],
  },
  {
    key: 'inbox',
    flag: '--inbox',
    value: '<create|none|url>',
    env: ['ASYNCMCP_INBOX'],
    description:
      "sqs, sns-sqs: this worker's own SQS queue, named in each initialize answer so a session's later requests come straight here, never to another worker: create (made at start, deleted at stop), none, or the URL of a queue made for this worker",
    defaultText: 'create (none with --stateless)',
    backends: ['sqs', 'sns-sqs'],
  },
  {
    key: 'aliveInterval',
    flag: '--alive-interval',
    value: '<seconds>',
    env: ['ASYNCMCP_ALIVE_INTERVAL'],
    description:
      'sqs, sns-sqs: with an inbox, while a request runs, tell its client this often that the worker is alive; a client that hears nothing for 3 intervals while a request waits takes the session as lost',
    defaultText: '3',
    backends: ['sqs', 'sns-sqs'],
  },
  {
    key: 'stateless',
    flag: '--stateless',
    env: ['ASYNCMCP_STATELESS'],
    description:
      'sqs, sns-sqs: for servers that keep nothing per session: any worker answers any request of any session, from a small pool of started servers; a worker killed mid-call loses nothing (its requests come back after the visibility timeout). Resource subscriptions and server-to-client requests are refused with an error',
    defaultText: 'false',
    backends: ['sqs', 'sns-sqs'],
  },
  {
    key: 'bindSessionsToSender',
    flag: '--bind-sessions-to-sender',
    env: ['ASYNCMCP_BIND_SESSIONS_TO_SENDER'],
    description:
      "sqs: a session takes messages only from the sender (SQS SenderId, the sender's IAM identity) of its initialize; others are refused (dead-lettered or deleted). Needs no secret and nothing of clients; each client must keep one identity for its sessions; not with --stateless",
    defaultText: 'false',
    backends: ['sqs'],
  },
  {
    key: 'visibilityTimeout',
    flag: '--visibility-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_VISIBILITY_TIMEOUT'],
    description:
      'sqs, sns-sqs: how long a received request stays hidden from other workers; extended every half of it while the request runs, so after a worker dies its requests come back this long later',
    defaultText: '30',
    backends: ['sqs', 'sns-sqs'],
  },
  gatewaySetting('region'),
  gatewaySetting('endpointUrl'),
  gatewaySetting('logLevel'),
] as const satisfies readonly SettingSpec[];

export type ServeSettingKey = (typeof SERVE_SETTINGS)[number]['key'];

/** Config-file keys of `serve` that are not flags: the stdio server to run, as after `--`. */
export const SERVE_FILE_ONLY_KEYS = ['command', 'args'] as const;

/** The `--config` setting: not a file key itself (a config file does not name another). */
export const CONFIG_SETTING = {
  flag: '--config',
  value: '<file>',
  env: ['ASYNCMCP_CONFIG'],
  description: 'JSON or YAML file of settings, keys named like the flags (requestQueueUrl, corsOrigins …)',
  defaultText: 'none',
} as const;

/** `serve`'s `--config`: the same variable, with serve's keys. */
export const SERVE_CONFIG_SETTING = {
  ...CONFIG_SETTING,
  description:
    'JSON or YAML file of settings, keys named like the flags (requestQueueUrl, upstreamHeaders …) plus command and args',
} as const;
