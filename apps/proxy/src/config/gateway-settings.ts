import { PROXY_DEFAULTS } from '@asyncmcp/proxy';
import { RESPONSE_QUEUE_LEASE } from '@asyncmcp/sqs';
import { WEBHOOK_DEFAULTS } from '@asyncmcp/webhook';
import { LOG_LEVELS } from './backend-names.js';
import { missingRequestQueueUrlError, missingRequestTopicArnError, missingServerUrlError } from './errors.js';
import { describeSettings, setting } from './setting.js';
import { boolean, seconds } from './value-types.js';
import * as values from './values.js';

/** Every gateway setting: the CLI builds its options and help from this table, the README mirrors it. */
export const GATEWAY_SETTINGS = {
  backend: setting({
    flag: '--backend',
    value: '<name>',
    env: ['ASYNCMCP_BACKEND', 'BACKEND_TRANSPORT'],
    type: values.backendName,
    description:
      'where sessions are forwarded: sqs, sns-sqs (also sns_sqs), webhook (MCP over webhooks) or hybrid (Streamable HTTP with webhook answers)',
    default: 'sqs',
  }),
  requestQueueUrl: setting({
    flag: '--request-queue-url',
    value: '<url>',
    env: ['ASYNCMCP_REQUEST_QUEUE_URL'],
    type: values.queueUrl('request queue URL'),
    description: 'sqs: the SQS queue the async MCP server reads (required for the sqs backend)',
    backends: ['sqs'],
    required: missingRequestQueueUrlError,
  }),
  responseQueueUrl: setting({
    flag: '--response-queue-url',
    value: '<url>',
    env: ['ASYNCMCP_RESPONSE_QUEUE_URL'],
    type: values.queueUrl('response queue URL'),
    description:
      'sqs, sns-sqs: the SQS queue answers come back on (with sns-sqs, subscribed to the response topic); one per gateway instance, never shared',
    absent: 'a queue the gateway creates, and deletes when it stops',
    backends: ['sqs', 'sns-sqs'],
  }),
  requestTopicArn: setting({
    flag: '--request-topic-arn',
    value: '<arn>',
    env: ['ASYNCMCP_REQUEST_TOPIC_ARN'],
    type: values.topicArn('request topic ARN'),
    description:
      'sns-sqs: the SNS topic the async MCP servers receive from, through their queues (required for the sns-sqs backend)',
    backends: ['sns-sqs'],
    required: missingRequestTopicArnError,
  }),
  responseTopicArn: setting({
    flag: '--response-topic-arn',
    value: '<arn>',
    env: ['ASYNCMCP_RESPONSE_TOPIC_ARN'],
    type: values.topicArn('response topic ARN'),
    description:
      "sns-sqs: the SNS topic servers publish answers to; gateway instances may share one (each instance's queue is filtered to its own sessions)",
    absent: 'a topic the gateway creates, and deletes when it stops',
    backends: ['sns-sqs'],
  }),
  responseQueueLease: setting({
    flag: '--response-queue-lease',
    value: '<seconds>',
    env: ['ASYNCMCP_RESPONSE_QUEUE_LEASE'],
    type: values.responseQueueLease,
    description:
      'sqs, sns-sqs: how long the response queue the gateway creates outlives an instance that was killed; renewed every third of it while the instance runs, and swept by the next instance to start after it ran out (not with --response-queue-url)',
    default: RESPONSE_QUEUE_LEASE.seconds,
    backends: ['sqs', 'sns-sqs'],
    readmeSection: 'Scaling out',
  }),
  serverUrl: setting({
    flag: '--server-url',
    value: '<url>',
    env: ['ASYNCMCP_SERVER_URL'],
    type: values.serverUrl,
    description:
      "webhook, hybrid: the async MCP server's endpoint, e.g. http://mcp.internal:8000/mcp/request (webhook) or http://mcp.internal:8000/mcp (hybrid) (required for the webhook and hybrid backends)",
    backends: ['webhook', 'hybrid'],
    required: missingServerUrlError,
  }),
  webhookBaseUrl: setting({
    flag: '--webhook-base-url',
    value: '<url>',
    env: ['ASYNCMCP_WEBHOOK_BASE_URL'],
    type: values.webhookBaseUrl,
    description:
      "webhook, hybrid: the base URL at which the server reaches THIS gateway instance; each session's webhook is <url><webhook-path>/<session> (required when --host is not loopback)",
    absent: "the gateway's own listening address (loopback --host only: server on the same machine)",
    backends: ['webhook', 'hybrid'],
  }),
  webhookPath: setting({
    flag: '--webhook-path',
    value: '<path>',
    env: ['ASYNCMCP_WEBHOOK_PATH'],
    type: values.webhookPath,
    description:
      'webhook, hybrid: where the gateway receives webhooks, one path below it per session; served without the Host, Origin and token checks of the MCP endpoint (the server calls it); must not overlap --path, /health, /ready or /metrics',
    default: WEBHOOK_DEFAULTS.webhookPath,
    backends: ['webhook', 'hybrid'],
  }),
  signingSecret: setting({
    flag: '--signing-secret',
    value: '<secret>',
    env: ['ASYNCMCP_SIGNING_SECRET'],
    type: values.signingSecret,
    description:
      'Standard Webhooks secret shared with the servers (base64 of 16 bytes or more, optionally whsec_-prefixed, as Standard Webhooks tools make them): sqs, sns-sqs: every message is signed, and answers without a valid signature are refused; webhook, hybrid: deliveries without a valid signature are refused, and with webhook the requests are signed too; never logged',
    absent: 'unsigned',
    readmeSection: 'Signed queue messages',
  }),
  port: setting({
    flag: '--port',
    value: '<n>',
    env: ['ASYNCMCP_PORT', 'PORT'],
    type: values.port,
    description: 'HTTP port (0 picks a free one)',
    default: PROXY_DEFAULTS.port,
  }),
  host: setting({
    flag: '--host',
    value: '<host>',
    env: ['ASYNCMCP_HOST'],
    type: values.host,
    description:
      'interface to bind; anything but loopback exposes the gateway to the network, and needs --auth-token (or --insecure-no-auth)',
    default: PROXY_DEFAULTS.host,
  }),
  path: setting({
    flag: '--path',
    value: '<path>',
    env: ['ASYNCMCP_PATH'],
    type: values.path,
    description: 'the MCP endpoint path',
    default: PROXY_DEFAULTS.path,
  }),
  authToken: setting({
    flag: '--auth-token',
    value: '<token>',
    env: ['ASYNCMCP_AUTH_TOKEN', 'AUTH_TOKEN'],
    type: values.authToken,
    description:
      'require "Authorization: Bearer <token>" on MCP requests and /metrics (at least 8 characters)',
    absent: 'none',
  }),
  corsOrigins: setting({
    flag: '--cors-origin',
    value: '<origin>',
    env: ['ASYNCMCP_CORS_ORIGIN'],
    type: values.corsOrigins,
    description: 'browser origin allowed by CORS (and as Origin); repeatable, comma-separated in env',
    default: [],
  }),
  allowedHosts: setting({
    flag: '--allowed-host',
    value: '<host>',
    env: ['ASYNCMCP_ALLOWED_HOST'],
    type: values.allowedHosts,
    description: 'accepted Host header name; repeatable, comma-separated in env',
    absent: 'loopback names when bound to loopback, any otherwise',
  }),
  allowedOrigins: setting({
    flag: '--allowed-origin',
    value: '<origin>',
    env: ['ASYNCMCP_ALLOWED_ORIGIN'],
    type: values.allowedOrigins,
    description: 'accepted Origin header; repeatable, comma-separated in env',
    absent: 'loopback origins when bound to loopback, none otherwise',
  }),
  maxSessions: setting({
    flag: '--max-sessions',
    value: '<n>',
    env: ['ASYNCMCP_MAX_SESSIONS'],
    type: values.atLeastOne('max sessions'),
    description: 'most live sessions; a new one beyond it gets 503',
    default: PROXY_DEFAULTS.maxSessions,
  }),
  sessionIdleTimeout: setting({
    flag: '--session-idle-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_SESSION_IDLE_TIMEOUT'],
    type: seconds('session idle timeout'),
    description: 'close sessions with no traffic and nothing running for this long',
    default: PROXY_DEFAULTS.sessionIdleTimeoutMs / 1000,
  }),
  requestTimeout: setting({
    flag: '--request-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_REQUEST_TIMEOUT'],
    type: seconds('request timeout'),
    description: 'a request the backend does not answer in this time gets a JSON-RPC error',
    default: PROXY_DEFAULTS.requestTimeoutMs / 1000,
  }),
  maxInFlightPerSession: setting({
    flag: '--max-in-flight-per-session',
    value: '<n>',
    env: ['ASYNCMCP_MAX_IN_FLIGHT_PER_SESSION'],
    type: values.atLeastOne('max in-flight per session'),
    description:
      "most requests of one session waiting for the backend at once; beyond it a request gets a JSON-RPC error at once, so one client cannot fill the backend's queue",
    default: PROXY_DEFAULTS.maxInFlightPerSession,
  }),
  publicMetrics: setting({
    flag: '--public-metrics',
    env: ['ASYNCMCP_PUBLIC_METRICS'],
    type: boolean('public-metrics switch'),
    description:
      'serve /metrics without the bearer token even when --auth-token is set (for a scraper that cannot send it)',
    default: PROXY_DEFAULTS.publicMetrics,
    describeDefault: (value) => `${value}: with --auth-token, /metrics requires it`,
  }),
  insecureNoAuth: setting({
    flag: '--insecure-no-auth',
    env: ['ASYNCMCP_INSECURE_NO_AUTH'],
    type: boolean('insecure-no-auth switch'),
    description:
      'allow a --host other than loopback without --auth-token (only behind something that authenticates clients)',
    default: false,
    describeDefault: (value) => `${value}: such a --host without a token is refused`,
  }),
  httpHeadersTimeout: setting({
    flag: '--http-headers-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_HTTP_HEADERS_TIMEOUT'],
    type: seconds('HTTP headers timeout'),
    description: 'a client must send its request headers within this time (408 otherwise)',
    default: PROXY_DEFAULTS.http.headersTimeoutMs / 1000,
  }),
  httpRequestTimeout: setting({
    flag: '--http-request-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_HTTP_REQUEST_TIMEOUT'],
    type: seconds('HTTP request timeout'),
    description:
      'a client must send its whole HTTP request (headers and body) within this time; answers and SSE streams are not limited by it; not shorter than --http-headers-timeout',
    default: PROXY_DEFAULTS.http.requestTimeoutMs / 1000,
  }),
  httpKeepAliveTimeout: setting({
    flag: '--http-keep-alive-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_HTTP_KEEP_ALIVE_TIMEOUT'],
    type: seconds('HTTP keep-alive timeout'),
    description:
      "close an idle keep-alive connection after this long (behind a load balancer, longer than the balancer's idle timeout)",
    default: PROXY_DEFAULTS.http.keepAliveTimeoutMs / 1000,
  }),
  maxConnections: setting({
    flag: '--max-connections',
    value: '<n>',
    env: ['ASYNCMCP_MAX_CONNECTIONS'],
    type: values.atLeastOne('max connections'),
    description:
      'most open HTTP connections; one beyond it is closed at once (an SDK client holds one or two per session)',
    default: PROXY_DEFAULTS.http.maxConnections,
  }),
  jsonResponse: setting({
    flag: '--json-response',
    env: ['ASYNCMCP_JSON_RESPONSE'],
    type: boolean('json-response switch'),
    description:
      "answer each POST with one JSON body instead of an SSE stream: less work per call (see bench/README.md), but a call's answer cannot be resumed, and a server's messages during a call (progress, logs, sampling, elicitation) go on the session's GET stream, which the client must hold (SDK clients open it once initialized)",
    default: false,
  }),
  stdio: setting({
    flag: '--stdio',
    env: ['ASYNCMCP_STDIO'],
    type: boolean('stdio switch'),
    description: 'serve one session on stdin/stdout instead of HTTP (logs go to stderr)',
    default: false,
  }),
  region: setting({
    flag: '--region',
    value: '<region>',
    env: ['ASYNCMCP_REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION'],
    type: values.region,
    description: 'sqs, sns-sqs: AWS region',
    absent:
      "the region the request queue URL or topic ARN names, else the AWS SDK's own lookup (shared config profile)",
    backends: ['sqs', 'sns-sqs'],
  }),
  endpointUrl: setting({
    flag: '--endpoint-url',
    value: '<url>',
    env: ['ASYNCMCP_ENDPOINT_URL', 'AWS_ENDPOINT_URL'],
    type: values.endpointUrl,
    description: 'sqs, sns-sqs: AWS endpoint for SQS (and SNS), e.g. a local emulator',
    absent: 'the AWS default for the region',
    backends: ['sqs', 'sns-sqs'],
  }),
  logLevel: setting({
    flag: '--log-level',
    value: '<level>',
    env: ['ASYNCMCP_LOG_LEVEL'],
    type: values.logLevel,
    description: `log level: ${LOG_LEVELS.join(', ')}`,
    default: 'info',
  }),
};

export type GatewaySettingKey = keyof typeof GATEWAY_SETTINGS;

/** The gateway's settings as help and the README show them. */
export const SETTINGS = describeSettings(GATEWAY_SETTINGS);
