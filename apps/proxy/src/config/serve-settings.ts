import { QUEUE_DEFAULTS, SESSION_DEFAULTS } from '@asyncmcp/core';
import { PROXY_DEFAULTS, SERVE_DEFAULTS } from '@asyncmcp/proxy';
import { SQS_WORKER_DEFAULTS } from '@asyncmcp/sqs';
import { WEBHOOK_DEFAULTS } from '@asyncmcp/webhook';
import { z } from 'zod';
import { GatewayConfigError } from './errors.js';
import { GATEWAY_SETTINGS } from './gateway-settings.js';
import { childVariables, inbox, upstreamHeaders } from './serve-values.js';
import { describeSettings, setting } from './setting.js';
import { boolean, integer, list, seconds } from './value-types.js';
import * as values from './values.js';

/**
 * The settings of `asyncmcp-proxy serve`, which puts an existing MCP server (a stdio command, or a
 * Streamable HTTP URL) on an async transport: a request queue (sqs, sns-sqs) or an HTTP endpoint of its
 * own (webhook, hybrid). The command itself comes after `--`, or from the config file's `command` and
 * `args` keys (SERVE_FILE_ONLY_KEYS); it has no flag or environment variable.
 */
export const SERVE_SETTINGS_TABLE = {
  backend: setting({
    ...GATEWAY_SETTINGS.backend,
    description:
      'where sessions come from: sqs, sns-sqs (also sns_sqs), webhook (an HTTP endpoint answering on webhooks) or hybrid (Streamable HTTP, with the answers of --webhook-tool tools on webhooks)',
  }),
  requestQueueUrl: setting({
    ...GATEWAY_SETTINGS.requestQueueUrl,
    description:
      'sqs, sns-sqs: the SQS queue serve reads: with sqs the queue clients and gateways send to, with sns-sqs the queue subscribed to the request topic (required)',
    backends: ['sqs', 'sns-sqs'],
  }),
  port: setting({
    ...GATEWAY_SETTINGS.port,
    description: 'webhook, hybrid: HTTP port to serve on, 0 picks a free one (required)',
    default: undefined,
    backends: ['webhook', 'hybrid'],
    required: (backend) =>
      new GatewayConfigError(
        'missing-port',
        `serve with the ${backend} backend needs the port to serve on: pass --port (0 picks a free one), set ASYNCMCP_PORT, or add port to the config file`,
      ),
  }),
  host: setting({
    ...GATEWAY_SETTINGS.host,
    description:
      'webhook, hybrid: interface to bind; anything but loopback exposes the server to the network',
    default: WEBHOOK_DEFAULTS.host,
    backends: ['webhook', 'hybrid'],
    sharedInEnvironment: true,
  }),
  path: setting({
    ...GATEWAY_SETTINGS.path,
    description: 'webhook, hybrid: the MCP endpoint path',
    default: undefined,
    defaultByBackend: {
      webhook: WEBHOOK_DEFAULTS.webhookEndpointPath,
      hybrid: WEBHOOK_DEFAULTS.hybridEndpointPath,
    },
    backends: ['webhook', 'hybrid'],
  }),
  webhookTools: setting({
    flag: '--webhook-tool',
    value: '<name>',
    env: ['ASYNCMCP_WEBHOOK_TOOL'],
    type: list('webhook tool', values.toolName),
    description:
      "hybrid: a tool whose answers are POSTed to the client's webhook instead of its SSE stream; repeatable, comma-separated in env (at least one is required)",
    backends: ['hybrid'],
    required: () =>
      new GatewayConfigError(
        'missing-webhook-tools',
        'serve with the hybrid backend needs the tools whose answers go to the webhook: pass --webhook-tool <name> (repeatable), set ASYNCMCP_WEBHOOK_TOOL, or add webhookTools to the config file',
      ),
  }),
  signingSecret: setting({
    ...GATEWAY_SETTINGS.signingSecret,
    description:
      'Standard Webhooks secret shared with the clients (base64 of 16 bytes or more, optionally whsec_-prefixed, as Standard Webhooks tools make them): sqs, sns-sqs: every message is signed, and unsigned (injected), forged, stale or replayed requests are refused: dead-lettered with --dead-letter-queue-url, else deleted; webhook, hybrid: deliveries are signed, and with webhook unsigned requests are refused; never logged',
  }),
  allowPrivateNetworks: setting({
    flag: '--allow-private-networks',
    env: ['ASYNCMCP_ALLOW_PRIVATE_NETWORKS'],
    type: boolean('allow-private-networks switch'),
    description:
      'webhook, hybrid: deliver to webhooks on loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7) and unspecified addresses; cloud metadata, link-local, multicast, reserved and tunnel (Teredo, local-use NAT64) addresses stay refused',
    default: false,
    backends: ['webhook', 'hybrid'],
  }),
  allowedWebhookHosts: setting({
    flag: '--allowed-webhook-host',
    value: '<host>',
    env: ['ASYNCMCP_ALLOWED_WEBHOOK_HOST'],
    type: list('webhook host', values.webhookHost),
    description:
      'webhook, hybrid: deliver only to webhooks on this host (hooks.example.com, or *.example.com for its subdomains); repeatable, comma-separated in env',
    absent: 'any host the address checks allow',
    backends: ['webhook', 'hybrid'],
  }),
  upstreamUrl: setting({
    flag: '--upstream-url',
    value: '<url>',
    env: ['ASYNCMCP_UPSTREAM_URL'],
    type: values.httpUrl(
      'upstream URL',
      'an http(s) URL of a Streamable HTTP MCP server, such as http://127.0.0.1:3000/mcp',
    ),
    description:
      'serve this Streamable HTTP MCP server instead of a command; one upstream session per session',
  }),
  upstreamHeaders: setting({
    flag: '--upstream-header',
    value: '<"Name: value">',
    env: ['ASYNCMCP_UPSTREAM_HEADER'],
    type: upstreamHeaders,
    description:
      'header on every request to --upstream-url; repeatable, comma-separated in env, a list or { Name: value } mapping in the file',
    absent: 'none',
  }),
  env: setting({
    flag: '--env',
    value: '<NAME[=value]>',
    env: ['ASYNCMCP_ENV'],
    type: childVariables,
    description:
      "a variable for the server's child processes: NAME=value sets it, NAME alone passes serve's own value; repeatable (each flag whole, so values keep their commas), comma-separated in env, a list or { NAME: value } mapping in the file (null passes serve's value). Children get only these and a minimal environment (HOME, PATH, USER, SHELL, TERM, LOGNAME), never serve's token, signing secret or AWS keys",
    absent: 'none',
  }),
  passEnvironment: setting({
    flag: '--pass-environment',
    env: ['ASYNCMCP_PASS_ENVIRONMENT'],
    type: boolean('pass-environment switch'),
    description:
      "give the server's child processes serve's whole environment, secrets included (its AWS keys, signing secret …); only for a server trusted with them",
    default: false,
  }),
  maxSessions: setting({
    ...GATEWAY_SETTINGS.maxSessions,
    description:
      'most live sessions, each one child process or upstream session; initialize beyond it gets a JSON-RPC error',
    default: SERVE_DEFAULTS.maxSessions,
  }),
  sessionIdleTimeout: setting({
    ...GATEWAY_SETTINGS.sessionIdleTimeout,
    description: 'end sessions (and their child processes) with no traffic and nothing running for this long',
    default: SESSION_DEFAULTS.sessionIdleTimeoutMs / 1000,
  }),
  requestTimeout: setting({
    ...GATEWAY_SETTINGS.requestTimeout,
    description: 'a request the server does not answer in this time gets a JSON-RPC error',
    default: PROXY_DEFAULTS.requestTimeoutMs / 1000,
  }),
  maxInFlightPerSession: setting({
    ...GATEWAY_SETTINGS.maxInFlightPerSession,
    description:
      'sqs, sns-sqs, webhook: most requests of one session running at once; beyond it a request gets a JSON-RPC error at once, so one session cannot take every slot of the worker',
    default: SESSION_DEFAULTS.maxInFlightPerSession,
    backends: ['sqs', 'sns-sqs', 'webhook'],
    sharedInEnvironment: true,
  }),
  deadLetterQueueUrl: setting({
    flag: '--dead-letter-queue-url',
    value: '<url>',
    env: ['ASYNCMCP_DEAD_LETTER_QUEUE_URL'],
    type: values.queueUrl('dead-letter queue URL', 'my-dlq'),
    description:
      'sqs, sns-sqs: an SQS queue that keeps a copy of each request that cannot be parsed, that is refused for its signature (--signing-secret) or sender (--bind-sessions-to-sender), or that names a response destination it refuses',
    absent: 'none (such requests are deleted with a log line)',
    backends: ['sqs', 'sns-sqs'],
  }),
  allowedResponseQueues: setting({
    flag: '--allowed-response-queue',
    value: '<prefix-or-arn>',
    env: ['ASYNCMCP_ALLOWED_RESPONSE_QUEUE'],
    type: list('allowed response queue', values.responseDestination),
    description:
      "sqs, sns-sqs: a response destination a client may name besides the request queue's own endpoint and account: a queue URL prefix (https://sqs.eu-west-1.amazonaws.com/111122223333/replies-, compared as a parsed URL) or, with sns-sqs, a topic ARN (a trailing * makes it a prefix); repeatable, comma-separated in env. Others are refused: logged, dead-lettered or deleted, never answered",
    absent: "none: only queues on the request queue's endpoint and account (topics: its account and region)",
    backends: ['sqs', 'sns-sqs'],
  }),
  releaseUnknownSessions: setting({
    flag: '--release-unknown-sessions',
    value: '<n>',
    env: ['ASYNCMCP_RELEASE_UNKNOWN_SESSIONS'],
    type: integer(
      {
        what: 'release-unknown-sessions count',
        expected:
          'a whole number of receives, 0 or more, such as 10 × the number of serve workers on the request queue',
      },
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    description:
      'sqs, sns-sqs: for several serve processes (workers) on one request queue, with clients that ignore inboxes (Python asyncmcp): hand a request for a session another worker holds back to the queue, up to this many receives of it, so that worker can take it; 10 × the number of workers, say',
    default: SQS_WORKER_DEFAULTS.releaseUnknownSessions,
    describeDefault: (value) =>
      `${value} (this serve is the queue's only reader: such a request is answered Session not found at once, or dropped when it names no answer address (Python clients' requests))`,
    backends: ['sqs', 'sns-sqs'],
  }),
  inbox: setting({
    flag: '--inbox',
    value: '<create|none|url>',
    env: ['ASYNCMCP_INBOX'],
    type: inbox,
    description:
      "sqs, sns-sqs: this worker's own SQS queue, named in each initialize answer so a session's later requests come straight here, never to another worker: create (made at start, deleted at stop), none, or the URL of a queue made for this worker; create or a URL is refused with --stateless",
    default: 'create',
    describeDefault: (value) => `${value} (none with --stateless)`,
    backends: ['sqs', 'sns-sqs'],
  }),
  aliveInterval: setting({
    flag: '--alive-interval',
    value: '<seconds>',
    env: ['ASYNCMCP_ALIVE_INTERVAL'],
    type: seconds('alive interval'),
    description:
      'sqs, sns-sqs: with an inbox, while a request runs, tell its client this often that the worker is alive; a client that hears nothing for 3 intervals while a request waits takes the session as lost',
    default: SQS_WORKER_DEFAULTS.aliveIntervalSeconds,
    backends: ['sqs', 'sns-sqs'],
  }),
  stateless: setting({
    flag: '--stateless',
    env: ['ASYNCMCP_STATELESS'],
    type: boolean('stateless switch'),
    description:
      'sqs, sns-sqs: for servers that keep nothing per session: any worker answers any request of any session, from a small pool of started servers; a worker killed mid-call loses nothing (its requests come back after the visibility timeout). Resource subscriptions and server-to-client requests are refused with an error',
    default: false,
    backends: ['sqs', 'sns-sqs'],
  }),
  bindSessionsToSender: setting({
    flag: '--bind-sessions-to-sender',
    env: ['ASYNCMCP_BIND_SESSIONS_TO_SENDER'],
    type: boolean('bind-sessions-to-sender switch'),
    description:
      "sqs: a session takes messages only from the sender (SQS SenderId, the sender's IAM identity) of its initialize; others are refused (dead-lettered or deleted). Needs no secret and nothing of clients; each client must keep one identity for its sessions; not with --stateless",
    default: false,
    backends: ['sqs'],
    readmeSection: 'Signed queue messages',
  }),
  visibilityTimeout: setting({
    flag: '--visibility-timeout',
    value: '<seconds>',
    env: ['ASYNCMCP_VISIBILITY_TIMEOUT'],
    type: integer(
      { what: 'visibility timeout', expected: 'a whole number of seconds from 1 to 43200' },
      1,
      43_200,
    ),
    description:
      'sqs, sns-sqs: how long a received request stays hidden from other workers; extended every half of it while the request runs, so after a worker dies its requests come back this long later',
    default: QUEUE_DEFAULTS.visibilityTimeoutSeconds,
    backends: ['sqs', 'sns-sqs'],
  }),
  region: setting({
    ...GATEWAY_SETTINGS.region,
    absent: "the region the request queue URL names, else the AWS SDK's own lookup (shared config profile)",
  }),
  endpointUrl: GATEWAY_SETTINGS.endpointUrl,
  logLevel: GATEWAY_SETTINGS.logLevel,
};

export type ServeSettingKey = keyof typeof SERVE_SETTINGS_TABLE;

/** serve's settings as help and the README show them. */
export const SERVE_SETTINGS = describeSettings(SERVE_SETTINGS_TABLE);

/** Config-file keys of `serve` that are not flags: the stdio server to run, as after `--`. */
export const SERVE_FILE_ONLY_KEYS = ['command', 'args'] as const;

/** The stdio server's command line, which has no flag or variable: as the README's table shows it. */
export const SERVE_COMMAND = {
  usage: '-- <command> [args…]',
  fileKeys: SERVE_FILE_ONLY_KEYS,
  description:
    'the stdio MCP server, started once per session; in the file, command is a program or a list such as [node, server.js], and args are appended to it',
} as const;

/** The file-only keys' shapes, for the JSON Schema. */
export const SERVE_FILE_ONLY_SCHEMAS = {
  command: z
    .union([z.string(), z.array(z.union([z.string(), z.number(), z.boolean()]))])
    .describe('the stdio MCP server to run once per session: a program, or a list such as [node, server.js]'),
  args: z
    .array(z.union([z.string(), z.number(), z.boolean()]))
    .describe("arguments appended to command's, such as [server.js, --verbose]"),
} as const;
