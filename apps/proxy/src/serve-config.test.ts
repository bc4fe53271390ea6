import { describe, expect, it } from 'vitest';
import {
  GatewayConfigError,
  type GatewayConfigErrorReason,
  type ResolveServeConfigInput,
  resolveServeConfig,
  SERVE_SETTINGS,
  SETTINGS,
  type ServeConfig,
  type ServeFlagValues,
} from './config/index.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests';
const OTHER_QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/other';
const DLQ = 'https://sqs.us-east-1.amazonaws.com/123456789012/mcp-dlq';
const UPSTREAM = 'http://127.0.0.1:3000/mcp';

function resolve(input: Partial<ResolveServeConfigInput>): ServeConfig {
  return resolveServeConfig({ flags: {}, env: {}, ...input });
}

/** The flags of `serve --request-queue-url QUEUE … -- node server.js`. */
function withCommand(flags: ServeFlagValues = {}): ServeFlagValues {
  return { requestQueueUrl: QUEUE, command: ['node', 'server.js'], ...flags };
}

function refusal(input: Partial<ResolveServeConfigInput>): GatewayConfigError {
  try {
    resolve(input);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayConfigError);
    expect((error as GatewayConfigError).message).not.toContain('\n');
    return error as GatewayConfigError;
  }
  throw new Error('expected a configuration error, but the configuration was accepted');
}

function expectRefused(
  input: Partial<ResolveServeConfigInput>,
  reason: GatewayConfigErrorReason,
  message: string,
): void {
  const error = refusal(input);
  expect(error.reason).toBe(reason);
  expect(error.message).toBe(message);
}

/** What every resolved config holds when nothing sets these: the documented defaults. */
const SESSION_DEFAULTS = {
  maxSessions: 100,
  sessionIdleTimeoutMs: 1_800_000,
  requestTimeoutMs: 300_000,
  maxInFlightPerSession: 32,
  deadLetterQueueUrl: undefined,
  // Answers go only to queues on the request queue's own endpoint and account.
  allowedResponseQueues: undefined,
  releaseUnknownSessions: 0,
  // Each worker reads an inbox of its own, made at start and deleted at stop.
  inbox: 'create',
  aliveIntervalSeconds: 3,
  stateless: false,
  bindSessionsToSender: false,
  visibilityTimeoutSeconds: 10,
  // A command's children get a minimal environment, nothing of serve's secrets.
  childEnvironment: { passEnvironment: false, variables: [] },
  // Messages go unsigned, as Python peers send them.
  signingSecret: undefined,
  // The region the request queue URL names.
  region: 'us-east-1',
  endpointUrl: undefined,
  logLevel: 'info',
  configFile: undefined,
} as const;

describe('resolveServeConfig: defaults', () => {
  it('fills every setting with its documented default', () => {
    expect(resolve({ flags: withCommand() })).toEqual({
      backend: 'sqs',
      requestQueueUrl: QUEUE,
      http: undefined,
      upstream: { kind: 'command', command: 'node', args: ['server.js'] },
      ...SESSION_DEFAULTS,
    });
  });

  it('keeps the arguments of the command as they are, option-like words included', () => {
    const config = resolve({
      flags: withCommand({ command: ['npx', '-y', '@scope/server', '--port', '0'] }),
    });
    expect(config.upstream).toEqual({
      kind: 'command',
      command: 'npx',
      args: ['-y', '@scope/server', '--port', '0'],
    });
  });
});

describe("resolveServeConfig: the child processes' environment", () => {
  it('takes --env as NAME=value or NAME, each flag whole, so a value keeps its commas and equals signs', () => {
    expect(
      resolve({
        flags: withCommand({ env: ['LIST=a,b,c', 'API_KEY', 'QUERY=x=1'], passEnvironment: true }),
      }).childEnvironment,
    ).toEqual({
      passEnvironment: true,
      variables: [{ name: 'LIST', value: 'a,b,c' }, { name: 'API_KEY' }, { name: 'QUERY', value: 'x=1' }],
    });
  });

  it('reads ASYNCMCP_ENV comma-separated and a file mapping, flags over env over file', () => {
    const file = {
      path: 's.yaml',
      contents: `requestQueueUrl: ${QUEUE}\ncommand: node\nenv:\n  DEBUG: "mcp:*"\n  HOME_DIR: null\n  PORT: 3000\npassEnvironment: false`,
    };
    expect(resolve({ file }).childEnvironment).toEqual({
      passEnvironment: false,
      variables: [{ name: 'DEBUG', value: 'mcp:*' }, { name: 'HOME_DIR' }, { name: 'PORT', value: '3000' }],
    });
    const env = { ASYNCMCP_ENV: 'A=1, B', ASYNCMCP_PASS_ENVIRONMENT: 'true' };
    expect(resolve({ file, env }).childEnvironment).toEqual({
      passEnvironment: true,
      variables: [{ name: 'A', value: '1' }, { name: 'B' }],
    });
    expect(resolve({ file, env, flags: { env: ['C=3'] } }).childEnvironment.variables).toEqual([
      { name: 'C', value: '3' },
    ]);
  });

  it('refuses a bad name without echoing the value, and --env with an upstream URL', () => {
    const error = refusal({ flags: withCommand({ env: ['1BAD=hunter2'] }) });
    expect(error.message).toBe(
      'invalid --env from --env: "1BAD" is not a variable name; expected NAME=value, or NAME alone to pass serve\'s own value',
    );
    expect(error.message).not.toContain('hunter2');
    expectRefused(
      {
        flags: { requestQueueUrl: QUEUE, upstreamUrl: UPSTREAM },
        env: { ASYNCMCP_PASS_ENVIRONMENT: 'true' },
      },
      'invalid-value',
      `--pass-environment (from environment variable ASYNCMCP_PASS_ENVIRONMENT) applies only to a command serve runs, but the server to serve is the upstream URL ${UPSTREAM}; remove it`,
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, upstreamUrl: UPSTREAM, env: ['A=1'] } },
      'invalid-value',
      `--env (from --env) applies only to a command serve runs, but the server to serve is the upstream URL ${UPSTREAM}; remove it`,
    );
    expectRefused(
      { flags: withCommand({ passEnvironment: 'maybe' }) },
      'invalid-value',
      'invalid pass-environment switch "maybe" from --pass-environment: expected true or false',
    );
  });
});

describe('resolveServeConfig: precedence flags > env > file > defaults', () => {
  const file = {
    path: 'serve.yaml',
    contents: [
      `requestQueueUrl: ${OTHER_QUEUE}`,
      'command: [node, server.js]',
      'maxSessions: 5',
      'sessionIdleTimeout: 60',
      'requestTimeout: 10',
      'maxInFlightPerSession: 6',
      'logLevel: debug',
      `deadLetterQueueUrl: ${DLQ}`,
      'allowedResponseQueues: [https://sqs.eu-west-1.amazonaws.com/111122223333/replies-, arn:aws:sns:eu-west-1:111122223333:*]',
      'releaseUnknownSessions: 20',
      'inbox: https://sqs.eu-west-1.amazonaws.com/123456789012/worker-1',
      'aliveInterval: 5',
      'visibilityTimeout: 60',
      'region: eu-west-1',
      'env: [LOG_FORMAT=json, API_KEY]',
      'passEnvironment: true',
    ].join('\n'),
  };

  it('takes every setting from the file when nothing else sets it', () => {
    expect(resolve({ file })).toEqual({
      backend: 'sqs',
      requestQueueUrl: OTHER_QUEUE,
      http: undefined,
      upstream: { kind: 'command', command: 'node', args: ['server.js'] },
      maxSessions: 5,
      sessionIdleTimeoutMs: 60_000,
      requestTimeoutMs: 10_000,
      maxInFlightPerSession: 6,
      deadLetterQueueUrl: DLQ,
      allowedResponseQueues: [
        'https://sqs.eu-west-1.amazonaws.com/111122223333/replies-',
        'arn:aws:sns:eu-west-1:111122223333:*',
      ],
      releaseUnknownSessions: 20,
      inbox: { queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/worker-1' },
      aliveIntervalSeconds: 5,
      stateless: false,
      bindSessionsToSender: false,
      visibilityTimeoutSeconds: 60,
      childEnvironment: {
        passEnvironment: true,
        variables: [{ name: 'LOG_FORMAT', value: 'json' }, { name: 'API_KEY' }],
      },
      region: 'eu-west-1',
      endpointUrl: undefined,
      logLevel: 'debug',
      configFile: 'serve.yaml',
    });
  });

  it('lets the environment win over the file, and flags over both', () => {
    const env = {
      ASYNCMCP_REQUEST_QUEUE_URL: QUEUE,
      ASYNCMCP_MAX_SESSIONS: '7',
      ASYNCMCP_SESSION_IDLE_TIMEOUT: '120',
      AWS_REGION: 'us-west-2',
      ASYNCMCP_LOG_LEVEL: 'warn',
    };
    const fromEnv = resolve({ file, env });
    expect(fromEnv).toMatchObject({
      requestQueueUrl: QUEUE,
      maxSessions: 7,
      sessionIdleTimeoutMs: 120_000,
      requestTimeoutMs: 10_000,
      region: 'us-west-2',
      logLevel: 'warn',
    });
    const fromFlags = resolve({
      file,
      env,
      flags: { maxSessions: '2', logLevel: 'error', region: 'ap-south-1' },
    });
    expect(fromFlags).toMatchObject({
      requestQueueUrl: QUEUE,
      maxSessions: 2,
      logLevel: 'error',
      region: 'ap-south-1',
      sessionIdleTimeoutMs: 120_000,
    });
  });

  it('reads every setting from ASYNCMCP_<FLAG>, and the backend from BACKEND_TRANSPORT too', () => {
    const config = resolve({
      env: {
        BACKEND_TRANSPORT: 'sqs',
        ASYNCMCP_REQUEST_QUEUE_URL: QUEUE,
        ASYNCMCP_UPSTREAM_URL: UPSTREAM,
        ASYNCMCP_UPSTREAM_HEADER: 'Authorization: Bearer abc',
        ASYNCMCP_MAX_SESSIONS: '3',
        ASYNCMCP_SESSION_IDLE_TIMEOUT: '0.5',
        ASYNCMCP_REQUEST_TIMEOUT: '30',
        ASYNCMCP_MAX_IN_FLIGHT_PER_SESSION: '8',
        ASYNCMCP_DEAD_LETTER_QUEUE_URL: DLQ,
        ASYNCMCP_ALLOWED_RESPONSE_QUEUE:
          'https://sqs.eu-north-1.amazonaws.com/111122223333/a-, https://sqs.eu-north-1.amazonaws.com/444455556666/',
        ASYNCMCP_RELEASE_UNKNOWN_SESSIONS: '30',
        ASYNCMCP_STATELESS: 'true',
        ASYNCMCP_ALIVE_INTERVAL: '1.5',
        ASYNCMCP_VISIBILITY_TIMEOUT: '120',
        ASYNCMCP_REGION: 'eu-north-1',
        ASYNCMCP_ENDPOINT_URL: 'http://127.0.0.1:4566',
        ASYNCMCP_LOG_LEVEL: 'TRACE',
      },
    });
    expect(config).toEqual({
      backend: 'sqs',
      requestQueueUrl: QUEUE,
      http: undefined,
      upstream: { kind: 'url', url: UPSTREAM, headers: { Authorization: 'Bearer abc' } },
      maxSessions: 3,
      sessionIdleTimeoutMs: 500,
      requestTimeoutMs: 30_000,
      maxInFlightPerSession: 8,
      deadLetterQueueUrl: DLQ,
      allowedResponseQueues: [
        'https://sqs.eu-north-1.amazonaws.com/111122223333/a-',
        'https://sqs.eu-north-1.amazonaws.com/444455556666/',
      ],
      releaseUnknownSessions: 30,
      // A stateless worker holds no session, so it reads no inbox.
      inbox: undefined,
      aliveIntervalSeconds: 1.5,
      stateless: true,
      bindSessionsToSender: false,
      visibilityTimeoutSeconds: 120,
      // An upstream URL has no child processes.
      childEnvironment: { passEnvironment: false, variables: [] },
      region: 'eu-north-1',
      endpointUrl: 'http://127.0.0.1:4566',
      logLevel: 'trace',
      configFile: undefined,
    });
  });

  it('reads AWS_ENDPOINT_URL below ASYNCMCP_ENDPOINT_URL', () => {
    expect(
      resolve({ flags: withCommand(), env: { AWS_ENDPOINT_URL: 'http://aws.example:1' } }).endpointUrl,
    ).toBe('http://aws.example:1');
    expect(
      resolve({
        flags: withCommand(),
        env: { AWS_ENDPOINT_URL: 'http://aws.example:1', ASYNCMCP_ENDPOINT_URL: 'http://mine.example:2' },
      }).endpointUrl,
    ).toBe('http://mine.example:2');
  });

  it('treats empty environment variables and an empty command as unset', () => {
    const config = resolve({
      file,
      flags: { command: [] },
      env: { ASYNCMCP_UPSTREAM_URL: '', ASYNCMCP_MAX_SESSIONS: '' },
    });
    expect(config.upstream).toEqual({ kind: 'command', command: 'node', args: ['server.js'] });
    expect(config.maxSessions).toBe(5);
  });

  it('has a file key and an ASYNCMCP_ variable for every serve setting, named like its flag', () => {
    for (const setting of SERVE_SETTINGS) {
      const kebab = setting.key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
      expect(setting.flag).toBe(`--${'list' in setting && setting.list ? kebab.replace(/s$/, '') : kebab}`);
      expect(setting.env[0]).toBe(`ASYNCMCP_${setting.flag.slice(2).replace(/-/g, '_').toUpperCase()}`);
      // A setting the gateway has too is read from the same environment variables.
      const shared = SETTINGS.find((candidate) => candidate.key === setting.key);
      if (shared !== undefined) expect(setting.env).toEqual(shared.env);
    }
  });
});

describe('resolveServeConfig: the server to serve', () => {
  it('takes the command from the file, as a program and a list of args', () => {
    const config = resolve({
      flags: { requestQueueUrl: QUEUE },
      file: { path: 's.yaml', contents: 'command: npx\nargs: [-y, my-server, --port, 3000, true]' },
    });
    expect(config.upstream).toEqual({
      kind: 'command',
      command: 'npx',
      args: ['-y', 'my-server', '--port', '3000', 'true'],
    });
  });

  it('appends args to a command given as a list', () => {
    const config = resolve({
      flags: { requestQueueUrl: QUEUE },
      file: { path: 's.json', contents: JSON.stringify({ command: ['uvx', 'server'], args: ['--verbose'] }) },
    });
    expect(config.upstream).toEqual({ kind: 'command', command: 'uvx', args: ['server', '--verbose'] });
  });

  it('serves an upstream URL with its headers, from repeated flags', () => {
    const config = resolve({
      flags: {
        requestQueueUrl: QUEUE,
        upstreamUrl: UPSTREAM,
        upstreamHeaders: ['Authorization: Bearer a,b', 'X-Tenant:acme', 'x-tenant: beta'],
      },
    });
    // A comma in a flag's value stays; a repeated name joins with ", " as HTTP does.
    expect(config.upstream).toEqual({
      kind: 'url',
      url: UPSTREAM,
      headers: { Authorization: 'Bearer a,b', 'X-Tenant': 'acme, beta' },
    });
  });

  it('splits environment headers at a comma followed by "Name:", so values keep their commas', () => {
    const config = resolve({
      flags: { requestQueueUrl: QUEUE, upstreamUrl: UPSTREAM },
      env: { ASYNCMCP_UPSTREAM_HEADER: 'Accept: text/plain, application/json, X-Api-Key: k1' },
    });
    expect(config.upstream).toEqual({
      kind: 'url',
      url: UPSTREAM,
      headers: { Accept: 'text/plain, application/json', 'X-Api-Key': 'k1' },
    });
  });

  it('reads file headers as a mapping or a list', () => {
    const fromMapping = resolve({
      flags: { requestQueueUrl: QUEUE },
      file: {
        path: 's.yaml',
        contents: `upstreamUrl: ${UPSTREAM}\nupstreamHeaders:\n  Authorization: Bearer t\n  X-Port: 8080`,
      },
    });
    expect(fromMapping.upstream).toEqual({
      kind: 'url',
      url: UPSTREAM,
      headers: { Authorization: 'Bearer t', 'X-Port': '8080' },
    });
    const fromList = resolve({
      flags: { requestQueueUrl: QUEUE },
      file: { path: 's.yaml', contents: `upstreamUrl: ${UPSTREAM}\nupstreamHeaders: ["A: 1", "B: 2"]` },
    });
    expect(fromList.upstream).toEqual({ kind: 'url', url: UPSTREAM, headers: { A: '1', B: '2' } });
  });

  it('takes the server from the strongest place that names one', () => {
    const file = { path: 's.yaml', contents: `upstreamUrl: ${UPSTREAM}` };
    // A command on the command line beats a URL in the environment or the file.
    expect(
      resolve({ file, env: { ASYNCMCP_UPSTREAM_URL: 'http://env.example/mcp' }, flags: withCommand() })
        .upstream,
    ).toEqual({ kind: 'command', command: 'node', args: ['server.js'] });
    // A URL in the environment beats a command in the file.
    expect(
      resolve({
        flags: { requestQueueUrl: QUEUE },
        env: { ASYNCMCP_UPSTREAM_URL: 'http://env.example/mcp' },
        file: { path: 's.yaml', contents: 'command: node' },
      }).upstream,
    ).toEqual({ kind: 'url', url: 'http://env.example/mcp', headers: {} });
    // --upstream-url beats a command in the file.
    expect(
      resolve({
        flags: { requestQueueUrl: QUEUE, upstreamUrl: UPSTREAM },
        file: { path: 's.yaml', contents: 'command: node' },
      }).upstream,
    ).toEqual({ kind: 'url', url: UPSTREAM, headers: {} });
  });
});

describe('resolveServeConfig: the sns-sqs backend', () => {
  it('reads the queue subscribed to the request topic, with every other setting as for sqs', () => {
    expect(resolve({ flags: withCommand({ backend: 'sns_sqs', deadLetterQueueUrl: DLQ }) })).toEqual({
      backend: 'sns-sqs',
      requestQueueUrl: QUEUE,
      http: undefined,
      upstream: { kind: 'command', command: 'node', args: ['server.js'] },
      ...SESSION_DEFAULTS,
      deadLetterQueueUrl: DLQ,
    });
    expect(
      resolve({
        env: { ASYNCMCP_BACKEND: 'sns-sqs' },
        file: { path: 's.yaml', contents: `requestQueueUrl: ${QUEUE}\ncommand: node` },
      }),
    ).toMatchObject({ backend: 'sns-sqs', requestQueueUrl: QUEUE, configFile: 's.yaml' });
  });

  it('refuses sns-sqs without the queue subscribed to the request topic', () => {
    expectRefused(
      { flags: { backend: 'sns-sqs', command: ['node', 'server.js'] } },
      'missing-request-queue-url',
      'the sns-sqs backend needs a request queue URL (the SQS queue subscribed to the request topic): pass --request-queue-url, set ASYNCMCP_REQUEST_QUEUE_URL, or add requestQueueUrl to the config file',
    );
  });

  it('shares every queue setting between sqs and sns-sqs, but the binding to SQS senders', () => {
    // Both backends read a request queue; sns-sqs only answers differently (on each client's topic).
    // Through SNS, though, every message's SenderId is SNS's own: sessions cannot be bound to it.
    for (const setting of SERVE_SETTINGS) {
      if (!('backends' in setting)) continue;
      if (setting.key === 'bindSessionsToSender') expect(setting.backends).toEqual(['sqs']);
      else if ((setting.backends as readonly string[]).includes('sqs'))
        expect(setting.backends.slice(0, 2)).toEqual(['sqs', 'sns-sqs']);
      // Named in the help, as the gateway's are.
      expect(setting.description.startsWith(`${setting.backends.join(', ')}: `)).toBe(true);
    }
  });

  it("refuses the gateway's topic keys in a serve config file", () => {
    expect(
      refusal({
        flags: withCommand({ backend: 'sns-sqs' }),
        file: { path: 's.yaml', contents: 'requestTopicArn: arn:aws:sns:us-east-1:123456789012:t' },
      }).reason,
    ).toBe('unknown-config-key');
  });
});

describe('resolveServeConfig: --release-unknown-sessions (workers on one request queue)', () => {
  it('defaults to 0, and takes flags over env over file, with sqs and sns-sqs alike', () => {
    expect(resolve({ flags: withCommand() }).releaseUnknownSessions).toBe(0);
    const file = { path: 's.yaml', contents: 'releaseUnknownSessions: 20' };
    const env = { ASYNCMCP_RELEASE_UNKNOWN_SESSIONS: '30' };
    for (const backend of ['sqs', 'sns-sqs'] as const) {
      expect(resolve({ flags: withCommand({ backend }), file }).releaseUnknownSessions).toBe(20);
      expect(resolve({ flags: withCommand({ backend }), file, env }).releaseUnknownSessions).toBe(30);
      expect(
        resolve({ flags: withCommand({ backend, releaseUnknownSessions: '40' }), file, env })
          .releaseUnknownSessions,
      ).toBe(40);
    }
    // 0 is allowed: this serve is the queue's only reader.
    expect(resolve({ flags: withCommand({ releaseUnknownSessions: '0' }), env }).releaseUnknownSessions).toBe(
      0,
    );
    expect(
      resolve({ flags: withCommand(), env: { ASYNCMCP_RELEASE_UNKNOWN_SESSIONS: '' }, file })
        .releaseUnknownSessions,
    ).toBe(20);
  });

  it('refuses anything but a whole number of 0 or more, naming where it came from', () => {
    const expected =
      'expected a whole number of receives, 0 or more, such as 10 × the number of serve workers on the request queue';
    expectRefused(
      { flags: withCommand({ releaseUnknownSessions: '-1' }) },
      'invalid-value',
      `invalid release-unknown-sessions count "-1" from --release-unknown-sessions: ${expected}`,
    );
    expectRefused(
      { flags: withCommand(), env: { ASYNCMCP_RELEASE_UNKNOWN_SESSIONS: '2.5' } },
      'invalid-value',
      `invalid release-unknown-sessions count "2.5" from environment variable ASYNCMCP_RELEASE_UNKNOWN_SESSIONS: ${expected}`,
    );
    expectRefused(
      { flags: withCommand(), file: { path: 's.yaml', contents: 'releaseUnknownSessions: many' } },
      'invalid-value',
      `invalid release-unknown-sessions count "many" from key releaseUnknownSessions in config file "s.yaml": ${expected}`,
    );
    expectRefused(
      { flags: withCommand(), file: { path: 's.yaml', contents: 'releaseUnknownSessions: -3' } },
      'invalid-value',
      `invalid release-unknown-sessions count -3 from key releaseUnknownSessions in config file "s.yaml": ${expected}`,
    );
  });

  it('refuses it with webhook and hybrid, from flags, the environment and the file', () => {
    expectRefused(
      { flags: { backend: 'webhook', port: '0', releaseUnknownSessions: '10', command: ['node'] } },
      'setting-not-for-backend',
      '--release-unknown-sessions belongs to the sqs and sns-sqs backends, not webhook: remove it, or choose --backend sqs',
    );
    expectRefused(
      {
        flags: { backend: 'hybrid', port: '0', webhookTools: ['a'], command: ['node'] },
        env: { ASYNCMCP_RELEASE_UNKNOWN_SESSIONS: '10' },
      },
      'setting-not-for-backend',
      '--release-unknown-sessions (set by environment variable ASYNCMCP_RELEASE_UNKNOWN_SESSIONS) belongs to the sqs and sns-sqs backends, not hybrid: remove it, or choose --backend sqs',
    );
    expectRefused(
      {
        flags: { backend: 'webhook', port: '0', command: ['node'] },
        file: { path: 's.yaml', contents: 'releaseUnknownSessions: 0' },
      },
      'setting-not-for-backend',
      '--release-unknown-sessions (set by key releaseUnknownSessions in config file "s.yaml") belongs to the sqs and sns-sqs backends, not webhook: remove it, or choose --backend sqs',
    );
  });
});

describe('resolveServeConfig: workers — inbox, alive interval, stateless, visibility timeout', () => {
  const WORKER_INBOX = 'https://sqs.us-east-1.amazonaws.com/123456789012/worker-1';

  it('reads no inbox with --inbox none, and a given queue with its URL', () => {
    expect(resolve({ flags: withCommand({ inbox: 'none' }) }).inbox).toBeUndefined();
    expect(resolve({ flags: withCommand({ inbox: WORKER_INBOX }) }).inbox).toEqual({
      queueUrl: WORKER_INBOX,
    });
    expect(resolve({ flags: withCommand(), env: { ASYNCMCP_INBOX: 'none' } }).inbox).toBeUndefined();
    expect(
      resolve({
        flags: withCommand({ backend: 'sns-sqs' }),
        file: { path: 's.yaml', contents: 'inbox: create' },
      }).inbox,
    ).toBe('create');
  });

  it('serves statelessly with no inbox, and refuses an inbox named beside --stateless', () => {
    expect(resolve({ flags: withCommand({ stateless: true }) })).toMatchObject({
      stateless: true,
      inbox: undefined,
    });
    expect(resolve({ flags: withCommand({ stateless: true, inbox: 'none' }) }).inbox).toBeUndefined();
    expectRefused(
      { flags: withCommand({ stateless: true, inbox: 'create' }) },
      'invalid-value',
      '--inbox create cannot be used with --stateless: a stateless worker holds no session to send to it',
    );
    expectRefused(
      { flags: withCommand(), env: { ASYNCMCP_STATELESS: 'yes', ASYNCMCP_INBOX: WORKER_INBOX } },
      'invalid-value',
      `--inbox ${WORKER_INBOX} cannot be used with --stateless: a stateless worker holds no session to send to it`,
    );
  });

  it('refuses bad values, naming where they came from', () => {
    expectRefused(
      { flags: withCommand({ inbox: 'ftp://queue' }) },
      'invalid-value',
      'invalid inbox "ftp://queue" from --inbox: expected create, none, or an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/worker-1',
    );
    expectRefused(
      { flags: withCommand({ aliveInterval: '0' }) },
      'invalid-value',
      'invalid alive interval "0" from --alive-interval: expected a number of seconds greater than 0, such as 30 or 0.5',
    );
    expectRefused(
      { flags: withCommand(), env: { ASYNCMCP_VISIBILITY_TIMEOUT: '43201' } },
      'invalid-value',
      'invalid visibility timeout "43201" from environment variable ASYNCMCP_VISIBILITY_TIMEOUT: expected a whole number of seconds from 1 to 43200',
    );
    expectRefused(
      { flags: withCommand(), file: { path: 's.yaml', contents: 'stateless: maybe' } },
      'invalid-value',
      'invalid stateless switch "maybe" from key stateless in config file "s.yaml": expected true or false',
    );
  });

  it('refuses them with webhook and hybrid', () => {
    for (const [key, value] of [
      ['inbox', 'create'],
      ['aliveInterval', '2'],
      ['stateless', true],
      ['visibilityTimeout', '60'],
    ] as const) {
      expect(
        refusal({ flags: { backend: 'webhook', port: '0', command: ['node'], [key]: value } }).reason,
      ).toBe('setting-not-for-backend');
    }
  });
});

describe('resolveServeConfig: bad configuration, one line each', () => {
  it('refuses a configuration with no server to serve', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE } },
      'missing-upstream',
      'serve needs the MCP server to serve: put its command after -- (asyncmcp-proxy serve --request-queue-url … -- node server.js), or pass --upstream-url, set ASYNCMCP_UPSTREAM_URL, or add command or upstreamUrl to the config file',
    );
  });

  it('refuses a command and an upstream URL from the same place', () => {
    expectRefused(
      { flags: withCommand({ upstreamUrl: UPSTREAM }) },
      'conflicting-upstream',
      'serve takes one MCP server, but the command line names both a command and an upstream URL: keep the command or the upstream URL',
    );
    expectRefused(
      {
        flags: { requestQueueUrl: QUEUE },
        file: { path: 's.yaml', contents: `command: node\nupstreamUrl: ${UPSTREAM}` },
      },
      'conflicting-upstream',
      'serve takes one MCP server, but config file "s.yaml" names both a command and an upstream URL: keep the command or the upstream URL',
    );
  });

  it('refuses upstream headers when the server is a command, without echoing them', () => {
    const error = refusal({ flags: withCommand({ upstreamHeaders: ['Authorization: Bearer s3cret'] }) });
    expect(error.reason).toBe('invalid-value');
    expect(error.message).toBe(
      'upstream headers (from --upstream-header) apply only to an upstream URL, but the server to serve is the command "node"; remove them, or serve --upstream-url instead',
    );
  });

  it('refuses malformed headers without echoing their values', () => {
    const noColon = refusal({
      flags: { requestQueueUrl: QUEUE, upstreamUrl: UPSTREAM, upstreamHeaders: ['Bearer s3cret'] },
    });
    expect(noColon.message).toBe(
      'invalid upstream header from --upstream-header: no ":" between name and value; expected a header such as "Authorization: Bearer <token>"',
    );
    expectRefused(
      {
        flags: { requestQueueUrl: QUEUE, upstreamUrl: UPSTREAM },
        env: { ASYNCMCP_UPSTREAM_HEADER: 'Bad Name: x' },
      },
      'invalid-value',
      'invalid upstream header from environment variable ASYNCMCP_UPSTREAM_HEADER: "Bad Name" is not a header name; expected a header such as "Authorization: Bearer <token>"',
    );
  });

  it('refuses an upstream URL that is not http(s)', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, upstreamUrl: 'localhost:3000/mcp' } },
      'invalid-value',
      'invalid upstream URL "localhost:3000/mcp" from --upstream-url: expected an http(s) URL of a Streamable HTTP MCP server, such as http://127.0.0.1:3000/mcp',
    );
  });

  it('refuses args without a command, and a command that is not text', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE }, file: { path: 's.yaml', contents: 'args: [server.js]' } },
      'invalid-value',
      'key args in config file "s.yaml" needs a command key too: add command: <program>',
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE }, file: { path: 's.yaml', contents: 'command: {program: node}' } },
      'invalid-value',
      'invalid command {"program":"node"} from key command in config file "s.yaml": expected a program such as node, or a list such as [node, server.js]',
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE }, file: { path: 's.yaml', contents: 'command: []' } },
      'invalid-value',
      'invalid command [] from key command in config file "s.yaml": expected a program such as node, or a list such as [node, server.js]',
    );
  });

  it('refuses allowed response queues that are neither an http(s) queue URL prefix nor a topic ARN', () => {
    const expected =
      'expected a queue URL prefix such as https://sqs.eu-west-1.amazonaws.com/111122223333/replies- or a topic ARN such as arn:aws:sns:eu-west-1:111122223333:replies';
    expectRefused(
      { flags: withCommand({ allowedResponseQueues: ['replies'] }) },
      'invalid-value',
      `invalid allowed response queue "replies" from --allowed-response-queue: ${expected}`,
    );
    expectRefused(
      { flags: withCommand(), env: { ASYNCMCP_ALLOWED_RESPONSE_QUEUE: 'ftp://x/1/q' } },
      'invalid-value',
      `invalid allowed response queue "ftp://x/1/q" from environment variable ASYNCMCP_ALLOWED_RESPONSE_QUEUE: ${expected}`,
    );
    expectRefused(
      { flags: withCommand({ allowedResponseQueues: ['https://user:pw@sqs.example.com/1/'] }) },
      'invalid-value',
      `invalid allowed response queue "https://user:pw@sqs.example.com/1/" from --allowed-response-queue: ${expected}`,
    );
    expectRefused(
      { flags: withCommand({ allowedResponseQueues: ['arn:aws:sqs:us-east-1:1:q'] }) },
      'invalid-value',
      `invalid allowed response queue "arn:aws:sqs:us-east-1:1:q" from --allowed-response-queue: ${expected}`,
    );
    expectRefused(
      {
        flags: {
          backend: 'webhook',
          port: '0',
          command: ['node'],
          allowedResponseQueues: ['https://sqs.eu-west-1.amazonaws.com/1/'],
        },
      },
      'setting-not-for-backend',
      '--allowed-response-queue belongs to the sqs and sns-sqs backends, not webhook: remove it, or choose --backend sqs',
    );
  });

  it('refuses a missing request queue URL and bad values like the gateway', () => {
    expectRefused(
      { flags: { command: ['node', 'server.js'] } },
      'missing-request-queue-url',
      'the sqs backend needs a request queue URL: pass --request-queue-url, set ASYNCMCP_REQUEST_QUEUE_URL, or add requestQueueUrl to the config file',
    );
    expectRefused(
      { flags: withCommand({ maxSessions: '0' }) },
      'invalid-value',
      'invalid max sessions "0" from --max-sessions: expected a whole number of at least 1',
    );
    expectRefused(
      { flags: withCommand(), env: { ASYNCMCP_DEAD_LETTER_QUEUE_URL: 'dlq' } },
      'invalid-value',
      'invalid dead-letter queue URL "dlq" from environment variable ASYNCMCP_DEAD_LETTER_QUEUE_URL: expected an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/my-dlq',
    );
  });

  it('accepts every backend name, and refuses an unknown one', () => {
    for (const backend of ['webhook', 'hybrid'] as const) {
      const tools = backend === 'hybrid' ? { webhookTools: ['t'] } : {};
      const config = resolve({ flags: { backend, port: '0', ...tools, command: ['node'] } });
      expect(config.backend).toBe(backend);
      expect(
        config.backend === 'webhook' || config.backend === 'hybrid' ? config.http : config.requestQueueUrl,
      ).toBeDefined();
    }
    expectRefused(
      { flags: withCommand({ backend: 'kafka' }) },
      'unknown-backend',
      'unknown backend "kafka" from --backend: expected one of sqs, sns-sqs, webhook, hybrid',
    );
  });

  it("refuses the gateway's keys in a serve config file, naming serve's keys", () => {
    expectRefused(
      { flags: withCommand(), file: { path: 's.yaml', contents: 'authToken: 12345678' } },
      'unknown-config-key',
      'unknown key "authToken" in config file "s.yaml"; known keys: backend, requestQueueUrl, port, host, path, webhookTools, signingSecret, allowPrivateNetworks, allowedWebhookHosts, upstreamUrl, upstreamHeaders, env, passEnvironment, maxSessions, sessionIdleTimeout, requestTimeout, maxInFlightPerSession, deadLetterQueueUrl, allowedResponseQueues, releaseUnknownSessions, inbox, aliveInterval, stateless, bindSessionsToSender, visibilityTimeout, region, endpointUrl, logLevel, command, args',
    );
    expect(
      refusal({ flags: withCommand(), file: { path: 's.yaml', contents: 'upstreamHeader: "A: 1"' } }).message,
    ).toMatch(/^unknown key "upstreamHeader" in config file "s\.yaml" \(did you mean upstreamHeaders\?\)/);
  });
});

describe('resolveServeConfig: signed queue messages', () => {
  const SECRET = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;

  it('takes the signing secret with sqs and sns-sqs, from flags, ASYNCMCP_SIGNING_SECRET and the file', () => {
    expect(resolve({ flags: withCommand({ requestQueueUrl: QUEUE, signingSecret: SECRET }) })).toEqual({
      backend: 'sqs',
      requestQueueUrl: QUEUE,
      http: undefined,
      upstream: { kind: 'command', command: 'node', args: ['server.js'] },
      ...SESSION_DEFAULTS,
      signingSecret: SECRET,
    });
    expect(
      resolve({
        flags: withCommand({ backend: 'sns-sqs', requestQueueUrl: QUEUE }),
        env: { ASYNCMCP_SIGNING_SECRET: `${SECRET}ZW52` },
        file: { path: 's.yaml', contents: `signingSecret: ${SECRET}ZmlsZQ==` },
      }).signingSecret,
    ).toBe(`${SECRET}ZW52`);
    expect(
      resolve({
        flags: withCommand({ requestQueueUrl: QUEUE }),
        file: { path: 's.yaml', contents: `signingSecret: ${SECRET}ZmlsZQ==` },
      }).signingSecret,
    ).toBe(`${SECRET}ZmlsZQ==`);
  });

  it('binds sessions to their sender with sqs only, and not with --stateless', () => {
    expect(resolve({ flags: withCommand({ bindSessionsToSender: true }) }).bindSessionsToSender).toBe(true);
    expect(
      resolve({ flags: withCommand(), env: { ASYNCMCP_BIND_SESSIONS_TO_SENDER: 'true' } })
        .bindSessionsToSender,
    ).toBe(true);
    expect(
      resolve({ flags: withCommand(), file: { path: 's.yaml', contents: 'bindSessionsToSender: true' } })
        .bindSessionsToSender,
    ).toBe(true);
    expectRefused(
      { flags: withCommand({ backend: 'sns-sqs', bindSessionsToSender: true }) },
      'setting-not-for-backend',
      '--bind-sessions-to-sender belongs to the sqs backend, not sns-sqs: remove it, or choose --backend sqs',
    );
    expectRefused(
      { flags: withCommand({ stateless: true, bindSessionsToSender: true }) },
      'invalid-value',
      '--bind-sessions-to-sender cannot be used with --stateless: a stateless worker holds no session to bind',
    );
  });

  it('refuses a short secret with the queue backends, without echoing it', () => {
    expectRefused(
      { flags: withCommand({ requestQueueUrl: QUEUE, signingSecret: 'short-secret' }) },
      'invalid-value',
      'the signing secret from --signing-secret is not a Standard Webhooks secret: use base64, optionally after whsec_, such as the output of openssl rand -base64 32 (a passphrase keeps its key as whsec_ followed by its base64)',
    );
  });
});

describe('resolveServeConfig: the webhook and hybrid backends', () => {
  const SECRET = `whsec_${Buffer.alloc(24, 5).toString('base64')}`;

  it('serves webhook on 127.0.0.1 at /mcp/request by default, with the SSRF guard closed', () => {
    expect(resolve({ flags: { backend: 'webhook', port: '8000', command: ['node', 'server.js'] } })).toEqual({
      backend: 'webhook',
      requestQueueUrl: undefined,
      http: {
        port: 8000,
        host: '127.0.0.1',
        path: '/mcp/request',
        allowPrivateNetworks: false,
        allowedWebhookHosts: undefined,
        webhookTools: undefined,
      },
      upstream: { kind: 'command', command: 'node', args: ['server.js'] },
      ...SESSION_DEFAULTS,
      // No queue, so no region and no inbox.
      region: undefined,
      inbox: undefined,
    });
  });

  it('serves hybrid at /mcp by default, with its webhook tools', () => {
    expect(
      resolve({
        flags: {
          backend: 'hybrid',
          port: '0',
          webhookTools: ['report', 'export,sync'],
          upstreamUrl: UPSTREAM,
        },
      }).http,
    ).toEqual({
      port: 0,
      host: '127.0.0.1',
      path: '/mcp',
      allowPrivateNetworks: false,
      allowedWebhookHosts: undefined,
      webhookTools: ['report', 'export', 'sync'],
    });
  });

  it('reads the HTTP settings from flags, ASYNCMCP_ variables and the file, in that order', () => {
    const file = {
      path: 's.yaml',
      contents: [
        'backend: hybrid',
        'port: 7000',
        'host: 0.0.0.0',
        'path: /file/mcp',
        'webhookTools: [a, b]',
        `signingSecret: ${SECRET}`,
        'allowPrivateNetworks: true',
        'allowedWebhookHosts: [hooks.example.com, "*.internal.example.com"]',
        'command: node',
      ].join('\n'),
    };
    expect(resolve({ file }).signingSecret).toBe(SECRET);
    expect(resolve({ file }).http).toEqual({
      port: 7000,
      host: '0.0.0.0',
      path: '/file/mcp',
      allowPrivateNetworks: true,
      allowedWebhookHosts: ['hooks.example.com', '*.internal.example.com'],
      webhookTools: ['a', 'b'],
    });
    const env = {
      ASYNCMCP_PORT: '7001',
      ASYNCMCP_WEBHOOK_TOOL: 'c,d',
      ASYNCMCP_ALLOW_PRIVATE_NETWORKS: 'false',
      ASYNCMCP_ALLOWED_WEBHOOK_HOST: 'Gateway.Example.com',
    };
    expect(resolve({ file, env }).http).toMatchObject({
      port: 7001,
      webhookTools: ['c', 'd'],
      allowPrivateNetworks: false,
      allowedWebhookHosts: ['gateway.example.com'],
    });
    expect(
      resolve({
        file,
        env,
        flags: { port: '7002', host: '::1', allowPrivateNetworks: true, webhookTools: ['e'] },
      }).http,
    ).toMatchObject({ port: 7002, host: '::1', allowPrivateNetworks: true, webhookTools: ['e'] });
  });

  it('takes PORT, as the gateway does', () => {
    expect(
      resolve({ flags: { backend: 'webhook', command: ['node'] }, env: { PORT: '9000' } }).http?.port,
    ).toBe(9000);
  });

  it('refuses webhook and hybrid without a port, and hybrid without webhook tools', () => {
    expectRefused(
      { flags: { backend: 'webhook', command: ['node'] } },
      'missing-port',
      'serve with the webhook backend needs the port to serve on: pass --port (0 picks a free one), set ASYNCMCP_PORT, or add port to the config file',
    );
    expectRefused(
      { flags: { backend: 'hybrid', port: '0', command: ['node'] } },
      'missing-webhook-tools',
      'serve with the hybrid backend needs the tools whose answers go to the webhook: pass --webhook-tool <name> (repeatable), set ASYNCMCP_WEBHOOK_TOOL, or add webhookTools to the config file',
    );
    expectRefused(
      { flags: { backend: 'webhook', port: '0' } },
      'missing-upstream',
      'serve needs the MCP server to serve: put its command after -- (asyncmcp-proxy serve --backend webhook --port … -- node server.js), or pass --upstream-url, set ASYNCMCP_UPSTREAM_URL, or add command or upstreamUrl to the config file',
    );
  });

  it('refuses the settings of another backend, both ways', () => {
    expectRefused(
      { flags: { backend: 'webhook', port: '0', requestQueueUrl: QUEUE, command: ['node'] } },
      'setting-not-for-backend',
      '--request-queue-url belongs to the sqs and sns-sqs backends, not webhook: remove it, or choose --backend sqs; the webhook backend takes --port instead',
    );
    expectRefused(
      { flags: { backend: 'webhook', port: '0', webhookTools: ['a'], command: ['node'] } },
      'setting-not-for-backend',
      '--webhook-tool belongs to the hybrid backend, not webhook: remove it, or choose --backend hybrid',
    );
    expectRefused(
      { flags: withCommand({ port: '8000' }) },
      'setting-not-for-backend',
      '--port belongs to the webhook and hybrid backends, not sqs: remove it, or choose --backend webhook; the sqs backend takes --request-queue-url instead',
    );
    expectRefused(
      { flags: withCommand({ allowPrivateNetworks: true }) },
      'setting-not-for-backend',
      '--allow-private-networks belongs to the webhook and hybrid backends, not sqs: remove it, or choose --backend webhook',
    );
    expectRefused(
      {
        flags: {
          backend: 'hybrid',
          port: '0',
          webhookTools: ['a'],
          command: ['node'],
          deadLetterQueueUrl: DLQ,
        },
      },
      'setting-not-for-backend',
      '--dead-letter-queue-url belongs to the sqs and sns-sqs backends, not hybrid: remove it, or choose --backend sqs',
    );
    // PORT and AWS_REGION are other tools' too: ignored where they do not apply.
    expect(resolve({ flags: withCommand(), env: { PORT: '8080' } }).http).toBeUndefined();
    // ASYNCMCP_HOST is a deployment's (the image sets it for the gateway and serve alike): a queue backend,
    // which listens on nothing, ignores it from the environment; a --host flag is still refused.
    expect(resolve({ flags: withCommand(), env: { ASYNCMCP_HOST: '0.0.0.0' } }).http).toBeUndefined();
    expectRefused(
      { flags: withCommand({ host: '0.0.0.0' }) },
      'setting-not-for-backend',
      '--host belongs to the webhook and hybrid backends, not sqs: remove it, or choose --backend webhook',
    );
    expect(
      resolve({
        flags: { backend: 'webhook', port: '0', command: ['node'] },
        env: { AWS_REGION: 'us-east-1' },
      }).region,
    ).toBeUndefined();
  });

  it('refuses bad HTTP settings, never echoing the secret', () => {
    expectRefused(
      { flags: { backend: 'webhook', port: 'x', command: ['node'] } },
      'invalid-value',
      'invalid port "x" from --port: expected a whole number from 0 to 65535 (0 picks a free port)',
    );
    expectRefused(
      {
        flags: {
          backend: 'webhook',
          port: '0',
          allowedWebhookHosts: ['https://hooks.example.com'],
          command: ['node'],
        },
      },
      'invalid-value',
      'invalid webhook host "https://hooks.example.com" from --allowed-webhook-host: expected a host name such as hooks.example.com, or *.example.com for its subdomains',
    );
    expectRefused(
      { flags: { backend: 'hybrid', port: '0', webhookTools: ['two words'], command: ['node'] } },
      'invalid-value',
      'invalid webhook tool "two words" from --webhook-tool: expected a tool name such as generate_report',
    );
    expectRefused(
      {
        flags: { backend: 'webhook', port: '0', command: ['node'] },
        env: { ASYNCMCP_ALLOW_PRIVATE_NETWORKS: 'maybe' },
      },
      'invalid-value',
      'invalid allow-private-networks switch "maybe" from environment variable ASYNCMCP_ALLOW_PRIVATE_NETWORKS: expected true or false',
    );
    const error = refusal({
      flags: { backend: 'webhook', port: '0', signingSecret: 'short-secret', command: ['node'] },
    });
    expect(error.message).toBe(
      'the signing secret from --signing-secret is not a Standard Webhooks secret: use base64, optionally after whsec_, such as the output of openssl rand -base64 32 (a passphrase keeps its key as whsec_ followed by its base64)',
    );
    expect(error.message).not.toContain('short-secret');
  });
});

describe('resolveServeConfig: --max-in-flight-per-session', () => {
  it('defaults to the library default, and is taken from flags, env and file with sqs, sns-sqs and webhook', () => {
    expect(resolve({ flags: withCommand() }).maxInFlightPerSession).toBe(32);
    const file = { path: 's.yaml', contents: 'maxInFlightPerSession: 2' };
    for (const backend of ['sqs', 'sns-sqs'] as const) {
      expect(resolve({ flags: withCommand({ backend }), file }).maxInFlightPerSession).toBe(2);
      expect(
        resolve({ flags: withCommand({ backend, maxInFlightPerSession: '5' }), file }).maxInFlightPerSession,
      ).toBe(5);
    }
    expect(
      resolve({
        flags: { backend: 'webhook', port: '0', command: ['node', 's.js'], maxInFlightPerSession: '3' },
      }).maxInFlightPerSession,
    ).toBe(3);
  });

  it('is refused with hybrid from a flag, and ignored there from the environment', () => {
    const hybrid = { backend: 'hybrid', port: '0', webhookTools: ['t'], command: ['node', 's.js'] };
    expect(refusal({ flags: { ...hybrid, maxInFlightPerSession: '3' } }).reason).toBe(
      'setting-not-for-backend',
    );
    expect(
      resolve({ flags: hybrid, env: { ASYNCMCP_MAX_IN_FLIGHT_PER_SESSION: '3' } }).maxInFlightPerSession,
    ).toBe(32);
  });

  it('refuses a value that is not a whole number of at least 1', () => {
    expectRefused(
      { flags: withCommand({ maxInFlightPerSession: '0' }) },
      'invalid-value',
      'invalid max in-flight per session "0" from --max-in-flight-per-session: expected a whole number of at least 1',
    );
  });
});
