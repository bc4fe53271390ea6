import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsyncMcpError, AsyncMcpErrorCode } from '@asyncmcp/core';
import { describe, expect, it } from 'vitest';
import {
  configFilePath,
  type FlagValues,
  GatewayConfigError,
  type GatewayConfigErrorReason,
  type ResolveConfigInput,
  readConfigFile,
  resolveConfig,
  resolveDemoConfig,
  SETTINGS,
  type SettingSpec,
} from './config/index.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests';
const OTHER_QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/other';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:mcp-requests';
const OTHER_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:gateway-responses';
const SERVER = 'http://mcp.internal:8000/mcp/request';
/** A Standard Webhooks secret: base64 (24 bytes) after whsec_. */
const SIGNING_SECRET = `whsec_${Buffer.alloc(24, 3).toString('base64')}`;

function resolve(input: Partial<ResolveConfigInput>) {
  return resolveConfig({ flags: {}, env: {}, ...input });
}

/** The error `run` throws, checked to be a GatewayConfigError with one line of message. */
function configError(run: () => unknown): GatewayConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayConfigError);
    const refused = error as GatewayConfigError;
    expect(refused.message).not.toContain('\n');
    return refused;
  }
  throw new Error('expected a configuration error, but the configuration was accepted');
}

function expectRefused(
  input: Partial<ResolveConfigInput>,
  reason: GatewayConfigErrorReason,
  message: string,
): void {
  const error = configError(() => resolve(input));
  expect(error.reason).toBe(reason);
  expect(error.message).toBe(message);
}

describe('resolveConfig: defaults', () => {
  it('fills every setting with its documented default', () => {
    expect(resolve({ flags: { requestQueueUrl: QUEUE } })).toEqual({
      backend: 'sqs',
      requestQueueUrl: QUEUE,
      responseQueueUrl: undefined,
      responseQueueLeaseSeconds: 900,
      requestTopicArn: undefined,
      responseTopicArn: undefined,
      serverUrl: undefined,
      webhookBaseUrl: undefined,
      webhookPath: undefined,
      signingSecret: undefined,
      port: 8080,
      host: '127.0.0.1',
      path: '/mcp',
      authToken: undefined,
      corsOrigins: [],
      allowedHosts: undefined,
      allowedOrigins: undefined,
      maxSessions: 1000,
      sessionIdleTimeoutMs: 1_800_000,
      requestTimeoutMs: 300_000,
      maxInFlightPerSession: 32,
      publicMetrics: false,
      insecureNoAuth: false,
      http: {
        headersTimeoutMs: 20_000,
        requestTimeoutMs: 60_000,
        keepAliveTimeoutMs: 5_000,
        maxConnections: 2_048,
      },
      jsonResponse: false,
      stdio: false,
      // The region the request queue URL names.
      region: 'us-east-1',
      endpointUrl: undefined,
      logLevel: 'info',
      configFile: undefined,
    });
  });

  it('is a configuration error in the asyncmcp error family', () => {
    const error = configError(() => resolve({}));
    expect(AsyncMcpError.isInstance(error)).toBe(true);
    expect(error.code).toBe(AsyncMcpErrorCode.Configuration);
  });
});

describe('resolveConfig: precedence flags > env > file > defaults', () => {
  const file = {
    path: 'gateway.yaml',
    contents: [
      `requestQueueUrl: ${OTHER_QUEUE}`,
      'port: 7000',
      'host: 0.0.0.0',
      'authToken: file-token-1234',
      'logLevel: debug',
      'maxSessions: 5',
    ].join('\n'),
  };

  it('takes a file value when nothing else sets it', () => {
    const config = resolve({ file });
    expect(config.requestQueueUrl).toBe(OTHER_QUEUE);
    expect(config.port).toBe(7000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.maxSessions).toBe(5);
    expect(config.configFile).toBe('gateway.yaml');
  });

  it('lets the environment win over the file', () => {
    const config = resolve({ file, env: { ASYNCMCP_PORT: '7001', ASYNCMCP_REQUEST_QUEUE_URL: QUEUE } });
    expect(config.port).toBe(7001);
    expect(config.requestQueueUrl).toBe(QUEUE);
    expect(config.host).toBe('0.0.0.0');
  });

  it('lets flags win over the environment and the file', () => {
    const config = resolve({
      file,
      env: { ASYNCMCP_PORT: '7001', ASYNCMCP_LOG_LEVEL: 'warn' },
      flags: { port: '7002', logLevel: 'error' },
    });
    expect(config.port).toBe(7002);
    expect(config.logLevel).toBe('error');
    expect(config.maxSessions).toBe(5);
  });

  it('treats empty environment variables as unset', () => {
    expect(resolve({ file, env: { ASYNCMCP_PORT: '', PORT: '' } }).port).toBe(7000);
  });

  it('reads the config file path from --config before ASYNCMCP_CONFIG', () => {
    expect(configFilePath({ config: 'a.yaml' }, { ASYNCMCP_CONFIG: 'b.yaml' })).toBe('a.yaml');
    expect(configFilePath({}, { ASYNCMCP_CONFIG: 'b.yaml' })).toBe('b.yaml');
    expect(configFilePath({}, {})).toBeUndefined();
  });
});

describe('resolveConfig: environment names', () => {
  it('reads every setting from ASYNCMCP_<FLAG>', () => {
    const config = resolve({
      env: {
        ASYNCMCP_BACKEND: 'sqs',
        ASYNCMCP_REQUEST_QUEUE_URL: QUEUE,
        ASYNCMCP_RESPONSE_QUEUE_URL: OTHER_QUEUE,
        ASYNCMCP_PORT: '9000',
        ASYNCMCP_HOST: '::1',
        ASYNCMCP_PATH: '/gateway',
        ASYNCMCP_AUTH_TOKEN: 'secret-token',
        ASYNCMCP_CORS_ORIGIN: 'https://a.example.com, https://b.example.com',
        ASYNCMCP_ALLOWED_HOST: 'mcp.example.com,localhost',
        ASYNCMCP_ALLOWED_ORIGIN: 'https://c.example.com',
        ASYNCMCP_MAX_SESSIONS: '10',
        ASYNCMCP_SESSION_IDLE_TIMEOUT: '60',
        ASYNCMCP_REQUEST_TIMEOUT: '0.5',
        ASYNCMCP_MAX_IN_FLIGHT_PER_SESSION: '4',
        ASYNCMCP_PUBLIC_METRICS: 'true',
        ASYNCMCP_INSECURE_NO_AUTH: 'yes',
        ASYNCMCP_HTTP_HEADERS_TIMEOUT: '2.5',
        ASYNCMCP_HTTP_REQUEST_TIMEOUT: '30',
        ASYNCMCP_HTTP_KEEP_ALIVE_TIMEOUT: '65',
        ASYNCMCP_MAX_CONNECTIONS: '100',
        ASYNCMCP_STDIO: 'true',
        ASYNCMCP_REGION: 'eu-west-1',
        ASYNCMCP_ENDPOINT_URL: 'http://127.0.0.1:4566',
        ASYNCMCP_LOG_LEVEL: 'DEBUG',
      },
    });
    expect(config).toMatchObject({
      backend: 'sqs',
      requestQueueUrl: QUEUE,
      responseQueueUrl: OTHER_QUEUE,
      port: 9000,
      host: '::1',
      path: '/gateway',
      authToken: 'secret-token',
      corsOrigins: ['https://a.example.com', 'https://b.example.com'],
      allowedHosts: ['mcp.example.com', 'localhost'],
      allowedOrigins: ['https://c.example.com'],
      maxSessions: 10,
      sessionIdleTimeoutMs: 60_000,
      requestTimeoutMs: 500,
      maxInFlightPerSession: 4,
      publicMetrics: true,
      insecureNoAuth: true,
      http: {
        headersTimeoutMs: 2_500,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 65_000,
        maxConnections: 100,
      },
      stdio: true,
      region: 'eu-west-1',
      endpointUrl: 'http://127.0.0.1:4566',
      logLevel: 'debug',
    });
  });

  it('reads the legacy names BACKEND_TRANSPORT, PORT and AUTH_TOKEN', () => {
    const config = resolve({
      env: {
        BACKEND_TRANSPORT: 'sqs',
        PORT: '8181',
        AUTH_TOKEN: 'legacy-token',
        ASYNCMCP_REQUEST_QUEUE_URL: QUEUE,
      },
    });
    expect(config.port).toBe(8181);
    expect(config.authToken).toBe('legacy-token');
    expect(config.backend).toBe('sqs');
  });

  it('prefers the ASYNCMCP_ name over the legacy one', () => {
    const config = resolve({
      env: {
        PORT: '8181',
        ASYNCMCP_PORT: '8282',
        AUTH_TOKEN: 'legacy-token',
        ASYNCMCP_AUTH_TOKEN: 'modern-token',
      },
      flags: { requestQueueUrl: QUEUE },
    });
    expect(config.port).toBe(8282);
    expect(config.authToken).toBe('modern-token');
  });

  it('takes the region the queue URL or topic ARN names when none is set, and AWS_DEFAULT_REGION', () => {
    expect(resolve({ flags: { requestQueueUrl: OTHER_QUEUE } }).region).toBe('eu-west-1');
    expect(resolve({ flags: { backend: 'sns-sqs', requestTopicArn: OTHER_TOPIC } }).region).toBe('eu-west-1');
    // The request topic names the server's region; the response queue comes after it.
    expect(
      resolve({ flags: { backend: 'sns-sqs', requestTopicArn: TOPIC, responseQueueUrl: OTHER_QUEUE } })
        .region,
    ).toBe('us-east-1');
    const privateEndpoint = 'https://sqs-vpce.internal.example/123456789012/q';
    expect(resolve({ flags: { requestQueueUrl: privateEndpoint } }).region).toBeUndefined();
    expect(
      resolve({ flags: { requestQueueUrl: privateEndpoint, responseQueueUrl: OTHER_QUEUE } }).region,
    ).toBe('eu-west-1');
    // A region that is set wins over the one the URL names; AWS_DEFAULT_REGION counts, below AWS_REGION.
    expect(
      resolve({ flags: { requestQueueUrl: QUEUE }, env: { AWS_DEFAULT_REGION: 'ca-central-1' } }).region,
    ).toBe('ca-central-1');
    expect(
      resolve({
        flags: { requestQueueUrl: QUEUE },
        env: { AWS_DEFAULT_REGION: 'ca-central-1', AWS_REGION: 'sa-east-1' },
      }).region,
    ).toBe('sa-east-1');
    expect(resolve({ flags: { requestQueueUrl: QUEUE, region: 'af-south-1' } }).region).toBe('af-south-1');
  });

  it("takes the AWS SDK's AWS_REGION and AWS_ENDPOINT_URL over the file, below ASYNCMCP_ names", () => {
    const file = { path: 'c.yaml', contents: 'region: ap-south-1\nendpointUrl: http://file.example:1' };
    const fromAws = resolve({
      file,
      flags: { requestQueueUrl: QUEUE },
      env: { AWS_REGION: 'us-west-2', AWS_ENDPOINT_URL: 'http://aws.example:2' },
    });
    expect(fromAws.region).toBe('us-west-2');
    expect(fromAws.endpointUrl).toBe('http://aws.example:2');
    const fromAsyncMcp = resolve({
      file,
      flags: { requestQueueUrl: QUEUE },
      env: { AWS_REGION: 'us-west-2', ASYNCMCP_REGION: 'eu-north-1' },
    });
    expect(fromAsyncMcp.region).toBe('eu-north-1');
  });

  it('reads booleans spelled in the usual ways', () => {
    for (const [value, expected] of [
      ['1', true],
      ['yes', true],
      ['on', true],
      ['0', false],
      ['no', false],
      ['FALSE', false],
    ] as const) {
      expect(resolve({ flags: { requestQueueUrl: QUEUE }, env: { ASYNCMCP_STDIO: value } }).stdio).toBe(
        expected,
      );
    }
  });
});

describe('resolveConfig: flags', () => {
  it('accepts sns_sqs as another spelling of sns-sqs', () => {
    expect(resolve({ flags: { backend: 'sns_sqs', requestTopicArn: TOPIC } }).backend).toBe('sns-sqs');
    expect(resolve({ flags: { backend: 'SNS-SQS', requestTopicArn: TOPIC } }).backend).toBe('sns-sqs');
  });

  it('needs no request queue URL for the backends that do not use one', () => {
    expect(resolve({ flags: { backend: 'webhook', serverUrl: SERVER } }).requestQueueUrl).toBeUndefined();
    expect(resolve({ flags: { backend: 'hybrid', serverUrl: SERVER } }).requestQueueUrl).toBeUndefined();
  });

  it('collects repeated list flags, splitting commas too', () => {
    const config = resolve({
      flags: {
        requestQueueUrl: QUEUE,
        corsOrigins: ['https://a.example.com', 'https://b.example.com,http://localhost:5173'],
        allowedHosts: ['MCP.Example.com'],
      },
    });
    expect(config.corsOrigins).toEqual([
      'https://a.example.com',
      'https://b.example.com',
      'http://localhost:5173',
    ]);
    // Host names are compared lower-case, as the Host check parses them.
    expect(config.allowedHosts).toEqual(['mcp.example.com']);
  });

  it('replaces a list from the environment instead of merging with it', () => {
    const config = resolve({
      flags: { requestQueueUrl: QUEUE, allowedOrigins: ['https://flag.example.com'] },
      env: { ASYNCMCP_ALLOWED_ORIGIN: 'https://env.example.com' },
    });
    expect(config.allowedOrigins).toEqual(['https://flag.example.com']);
  });

  it('treats an empty repeated flag as not given', () => {
    const config = resolve({
      flags: { requestQueueUrl: QUEUE, corsOrigins: [] },
      env: { ASYNCMCP_CORS_ORIGIN: 'https://env.example.com' },
    });
    expect(config.corsOrigins).toEqual(['https://env.example.com']);
  });

  it('takes --stdio as a switch', () => {
    expect(resolve({ flags: { requestQueueUrl: QUEUE, stdio: true } }).stdio).toBe(true);
  });

  it('takes --json-response as a switch, or from ASYNCMCP_JSON_RESPONSE', () => {
    expect(resolve({ flags: { requestQueueUrl: QUEUE, jsonResponse: true } }).jsonResponse).toBe(true);
    expect(
      resolve({ flags: { requestQueueUrl: QUEUE }, env: { ASYNCMCP_JSON_RESPONSE: 'true' } }).jsonResponse,
    ).toBe(true);
    expect(() =>
      resolve({ flags: { requestQueueUrl: QUEUE }, env: { ASYNCMCP_JSON_RESPONSE: 'sometimes' } }),
    ).toThrow('invalid json-response switch "sometimes" from environment variable ASYNCMCP_JSON_RESPONSE');
  });

  it('accepts port 0 (a free port)', () => {
    expect(resolve({ flags: { requestQueueUrl: QUEUE, port: '0' } }).port).toBe(0);
  });
});

describe('resolveConfig: config files', () => {
  it('reads YAML with lists, numbers and booleans', () => {
    const config = resolve({
      file: {
        path: 'gateway.yaml',
        contents: `
# a gateway in front of the orders server
backend: sqs
requestQueueUrl: ${QUEUE}
responseQueueUrl: ${OTHER_QUEUE}
port: 9090
path: /orders/mcp
corsOrigins:
  - https://a.example.com
  - https://b.example.com
allowedHosts: mcp.example.com, localhost
sessionIdleTimeout: 600
requestTimeout: 45
stdio: false
region: eu-west-1
`,
      },
    });
    expect(config).toMatchObject({
      requestQueueUrl: QUEUE,
      responseQueueUrl: OTHER_QUEUE,
      port: 9090,
      path: '/orders/mcp',
      corsOrigins: ['https://a.example.com', 'https://b.example.com'],
      allowedHosts: ['mcp.example.com', 'localhost'],
      sessionIdleTimeoutMs: 600_000,
      requestTimeoutMs: 45_000,
      stdio: false,
      region: 'eu-west-1',
    });
  });

  it('reads JSON', () => {
    const config = resolve({
      file: {
        path: 'gateway.json',
        contents: JSON.stringify({
          requestQueueUrl: QUEUE,
          port: 8443,
          corsOrigins: ['https://a.example.com'],
        }),
      },
    });
    expect(config.port).toBe(8443);
    expect(config.corsOrigins).toEqual(['https://a.example.com']);
  });

  it('accepts an empty file, and null values as unset', () => {
    expect(
      resolve({ flags: { requestQueueUrl: QUEUE }, file: { path: 'empty.yaml', contents: '' } }).port,
    ).toBe(8080);
    expect(
      resolve({
        flags: { requestQueueUrl: QUEUE },
        file: { path: 'nulls.yaml', contents: 'port: null\nhost: ~' },
      }).host,
    ).toBe('127.0.0.1');
  });

  it('has a file key for every setting, named like its flag', () => {
    for (const setting of SETTINGS) {
      const kebab = setting.key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
      // List settings are plural in files (corsOrigins) and singular as repeatable flags (--cors-origin).
      expect(setting.flag).toBe(`--${'list' in setting && setting.list ? kebab.replace(/s$/, '') : kebab}`);
      const envName = `ASYNCMCP_${setting.flag.slice(2).replace(/-/g, '_').toUpperCase()}`;
      expect(setting.env[0]).toBe(envName);
    }
  });

  it('reads a file from disk through readConfigFile', () => {
    const directory = mkdtempSync(join(tmpdir(), 'asyncmcp-proxy-config-'));
    const path = join(directory, 'gateway.yaml');
    writeFileSync(path, `requestQueueUrl: ${QUEUE}\n`);
    expect(resolve({ file: { path, contents: readConfigFile(path) } }).requestQueueUrl).toBe(QUEUE);
  });
});

describe('resolveConfig: bad configuration, one line each', () => {
  it('refuses a missing request queue URL for the sqs backend', () => {
    expectRefused(
      {},
      'missing-request-queue-url',
      'the sqs backend needs a request queue URL: pass --request-queue-url, set ASYNCMCP_REQUEST_QUEUE_URL, or add requestQueueUrl to the config file',
    );
  });

  it('refuses an unknown backend, naming where it came from', () => {
    expectRefused(
      { flags: { backend: 'kafka' } },
      'unknown-backend',
      'unknown backend "kafka" from --backend: expected one of sqs, sns-sqs, webhook, hybrid',
    );
    expectRefused(
      { env: { BACKEND_TRANSPORT: 'nats' } },
      'unknown-backend',
      'unknown backend "nats" from environment variable BACKEND_TRANSPORT: expected one of sqs, sns-sqs, webhook, hybrid',
    );
  });

  it('refuses bad ports', () => {
    const expected = (value: string, from: string) =>
      `invalid port ${value} from ${from}: expected a whole number from 0 to 65535 (0 picks a free port)`;
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, port: 'abc' } },
      'invalid-value',
      expected('"abc"', '--port'),
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, port: '70000' } },
      'invalid-value',
      expected('"70000"', '--port'),
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, port: '-1' } },
      'invalid-value',
      expected('"-1"', '--port'),
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, port: '80.5' } },
      'invalid-value',
      expected('"80.5"', '--port'),
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE }, env: { PORT: '8o8o' } },
      'invalid-value',
      expected('"8o8o"', 'environment variable PORT'),
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE }, file: { path: 'g.yaml', contents: 'port: true' } },
      'invalid-value',
      expected('true', 'key port in config file "g.yaml"'),
    );
  });

  it('refuses a request queue URL that is not an http(s) URL', () => {
    expectRefused(
      { flags: { requestQueueUrl: 'mcp-requests' } },
      'invalid-value',
      'invalid request queue URL "mcp-requests" from --request-queue-url: expected an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/my-queue',
    );
    expectRefused(
      { env: { ASYNCMCP_REQUEST_QUEUE_URL: 'arn:aws:sqs:us-east-1:123456789012:q' } },
      'invalid-value',
      'invalid request queue URL "arn:aws:sqs:us-east-1:123456789012:q" from environment variable ASYNCMCP_REQUEST_QUEUE_URL: expected an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/my-queue',
    );
  });

  it('refuses a bad endpoint URL', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, endpointUrl: 'localhost:4566' } },
      'invalid-value',
      'invalid endpoint URL "localhost:4566" from --endpoint-url: expected an http(s) URL such as http://127.0.0.1:4566',
    );
  });

  it('refuses a short auth token without echoing it', () => {
    const error = configError(() =>
      resolve({ flags: { requestQueueUrl: QUEUE }, env: { AUTH_TOKEN: 'abc' } }),
    );
    expect(error.reason).toBe('invalid-value');
    expect(error.message).toBe(
      'the auth token from environment variable AUTH_TOKEN is too short: use at least 8 characters',
    );
    expect(error.message).not.toContain('abc');
  });

  it('refuses a path without a leading slash', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, path: 'mcp' } },
      'invalid-value',
      'invalid path "mcp" from --path: expected a path starting with "/", such as /mcp',
    );
  });

  it('refuses bad origins and host names in lists', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, corsOrigins: ['https://a.example.com/'] } },
      'invalid-value',
      'invalid origin "https://a.example.com/" from --cors-origin: expected an origin such as https://app.example.com (scheme, host and port only; no path or trailing slash)',
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE }, env: { ASYNCMCP_ALLOWED_HOST: 'localhost,mcp.example.com:8080' } },
      'invalid-value',
      'invalid host name "mcp.example.com:8080" from environment variable ASYNCMCP_ALLOWED_HOST: expected a host name such as mcp.example.com (no scheme, port or path)',
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE }, file: { path: 'g.yaml', contents: 'allowedOrigins: [1]' } },
      'invalid-value',
      'invalid allowed origin 1 from key allowedOrigins in config file "g.yaml": expected a string',
    );
  });

  it('refuses bad counts and durations', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, maxSessions: '0' } },
      'invalid-value',
      'invalid max sessions "0" from --max-sessions: expected a whole number of at least 1',
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, requestTimeout: '5m' } },
      'invalid-value',
      'invalid request timeout "5m" from --request-timeout: expected a number of seconds greater than 0, such as 30 or 0.5',
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE }, env: { ASYNCMCP_SESSION_IDLE_TIMEOUT: '0' } },
      'invalid-value',
      'invalid session idle timeout "0" from environment variable ASYNCMCP_SESSION_IDLE_TIMEOUT: expected a number of seconds greater than 0, such as 30 or 0.5',
    );
  });

  it('refuses an unknown log level and a non-boolean stdio switch', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, logLevel: 'loud' } },
      'invalid-value',
      'invalid log level "loud" from --log-level: expected one of fatal, error, warn, info, debug, trace, silent',
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE }, env: { ASYNCMCP_STDIO: 'maybe' } },
      'invalid-value',
      'invalid stdio switch "maybe" from environment variable ASYNCMCP_STDIO: expected true or false',
    );
  });

  it('refuses invalid YAML with the position of the mistake', () => {
    expectRefused(
      { file: { path: 'broken.yaml', contents: 'port: 8080\n  host: [unclosed' } },
      'config-file-invalid',
      'invalid config file "broken.yaml": Nested mappings are not allowed in compact mappings at line 1, column 7; it must be JSON or YAML',
    );
  });

  it('refuses invalid JSON', () => {
    const error = configError(() =>
      resolve({ file: { path: 'broken.json', contents: '{"port": 8080,, }' } }),
    );
    expect(error.reason).toBe('config-file-invalid');
    expect(error.message).toMatch(
      /^invalid config file "broken\.json": .+ at line 1, column \d+; it must be JSON or YAML$/,
    );
  });

  it('refuses a file that is not a mapping', () => {
    expectRefused(
      { file: { path: 'list.yaml', contents: '- port: 8080' } },
      'config-file-invalid',
      'invalid config file "list.yaml": expected a mapping of settings such as "requestQueueUrl: https://…", got a list',
    );
    expectRefused(
      { file: { path: 'scalar.yaml', contents: 'just text' } },
      'config-file-invalid',
      'invalid config file "scalar.yaml": expected a mapping of settings such as "requestQueueUrl: https://…", got a string',
    );
  });

  it('refuses unknown keys, suggesting the likely one', () => {
    const known =
      'backend, requestQueueUrl, responseQueueUrl, requestTopicArn, responseTopicArn, responseQueueLease, serverUrl, webhookBaseUrl, webhookPath, signingSecret, port, host, path, authToken, corsOrigins, allowedHosts, allowedOrigins, maxSessions, sessionIdleTimeout, requestTimeout, maxInFlightPerSession, publicMetrics, insecureNoAuth, httpHeadersTimeout, httpRequestTimeout, httpKeepAliveTimeout, maxConnections, jsonResponse, stdio, region, endpointUrl, logLevel';
    expectRefused(
      { file: { path: 'g.yaml', contents: 'corsOrigin: https://a.example.com' } },
      'unknown-config-key',
      `unknown key "corsOrigin" in config file "g.yaml" (did you mean corsOrigins?); known keys: ${known}`,
    );
    expectRefused(
      { file: { path: 'g.yaml', contents: 'request-queue-url: https://q.example.com/q' } },
      'unknown-config-key',
      `unknown key "request-queue-url" in config file "g.yaml" (did you mean requestQueueUrl?); known keys: ${known}`,
    );
    expectRefused(
      { file: { path: 'g.yaml', contents: 'listenAddress: 0.0.0.0' } },
      'unknown-config-key',
      `unknown key "listenAddress" in config file "g.yaml"; known keys: ${known}`,
    );
  });
});

describe('resolveConfig: signed queue messages', () => {
  it('takes the signing secret with sqs and sns-sqs too, from flags, ASYNCMCP_SIGNING_SECRET and the file', () => {
    expect(resolve({ flags: { requestQueueUrl: QUEUE } }).signingSecret).toBeUndefined();
    expect(resolve({ flags: { requestQueueUrl: QUEUE, signingSecret: SIGNING_SECRET } }).signingSecret).toBe(
      SIGNING_SECRET,
    );
    expect(
      resolve({
        flags: { backend: 'sns-sqs', requestTopicArn: TOPIC },
        env: { ASYNCMCP_SIGNING_SECRET: `${SIGNING_SECRET}ZW52` },
        file: { path: 'g.yaml', contents: `signingSecret: ${SIGNING_SECRET}ZmlsZQ==` },
      }).signingSecret,
    ).toBe(`${SIGNING_SECRET}ZW52`);
    expect(
      resolve({
        flags: { requestQueueUrl: QUEUE },
        file: { path: 'g.yaml', contents: `signingSecret: ${SIGNING_SECRET}ZmlsZQ==` },
      }).signingSecret,
    ).toBe(`${SIGNING_SECRET}ZmlsZQ==`);
  });

  it('refuses a short secret with the queue backends as with the others, without echoing it', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, signingSecret: 'fifteen-bytes!!' } },
      'invalid-value',
      'the signing secret from --signing-secret is not a Standard Webhooks secret: use base64, optionally after whsec_, such as the output of openssl rand -base64 32 (a passphrase keeps its key as whsec_ followed by its base64)',
    );
  });
});

describe('resolveConfig: the sns-sqs backend', () => {
  it('takes a request topic, and optionally a response topic and queue', () => {
    expect(resolve({ flags: { backend: 'sns-sqs', requestTopicArn: TOPIC } })).toMatchObject({
      backend: 'sns-sqs',
      requestQueueUrl: undefined,
      responseQueueUrl: undefined,
      requestTopicArn: TOPIC,
      responseTopicArn: undefined,
    });
    expect(
      resolve({
        flags: {
          backend: 'sns_sqs',
          requestTopicArn: TOPIC,
          responseTopicArn: OTHER_TOPIC,
          responseQueueUrl: OTHER_QUEUE,
        },
      }),
    ).toMatchObject({
      backend: 'sns-sqs',
      requestTopicArn: TOPIC,
      responseTopicArn: OTHER_TOPIC,
      responseQueueUrl: OTHER_QUEUE,
    });
  });

  it('reads the topics from ASYNCMCP_REQUEST_TOPIC_ARN and ASYNCMCP_RESPONSE_TOPIC_ARN', () => {
    const config = resolve({
      env: {
        ASYNCMCP_BACKEND: 'sns-sqs',
        ASYNCMCP_REQUEST_TOPIC_ARN: TOPIC,
        ASYNCMCP_RESPONSE_TOPIC_ARN: OTHER_TOPIC,
        ASYNCMCP_RESPONSE_QUEUE_URL: OTHER_QUEUE,
      },
    });
    expect(config).toMatchObject({
      backend: 'sns-sqs',
      requestTopicArn: TOPIC,
      responseTopicArn: OTHER_TOPIC,
      responseQueueUrl: OTHER_QUEUE,
    });
  });

  it('reads requestTopicArn and responseTopicArn from the config file, below env and flags', () => {
    const file = {
      path: 'gateway.yaml',
      contents: ['backend: sns_sqs', `requestTopicArn: ${TOPIC}`, `responseTopicArn: ${OTHER_TOPIC}`].join(
        '\n',
      ),
    };
    expect(resolve({ file })).toMatchObject({
      backend: 'sns-sqs',
      requestTopicArn: TOPIC,
      responseTopicArn: OTHER_TOPIC,
    });
    const fifo = 'arn:aws:sns:us-east-1:123456789012:mcp-requests.fifo';
    expect(resolve({ file, env: { ASYNCMCP_REQUEST_TOPIC_ARN: fifo } }).requestTopicArn).toBe(fifo);
    const china = 'arn:aws-cn:sns:cn-north-1:123456789012:mcp-requests';
    expect(
      resolve({ file, env: { ASYNCMCP_REQUEST_TOPIC_ARN: fifo }, flags: { requestTopicArn: china } })
        .requestTopicArn,
    ).toBe(china);
  });

  it('refuses the sns-sqs backend without a request topic ARN', () => {
    expectRefused(
      { flags: { backend: 'sns-sqs' } },
      'missing-request-topic-arn',
      'the sns-sqs backend needs a request topic ARN: pass --request-topic-arn, set ASYNCMCP_REQUEST_TOPIC_ARN, or add requestTopicArn to the config file',
    );
  });

  it('refuses a topic ARN that is not an SNS topic ARN', () => {
    const expected = 'expected an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:mcp-requests';
    expectRefused(
      { flags: { backend: 'sns-sqs', requestTopicArn: 'mcp-requests' } },
      'invalid-value',
      `invalid request topic ARN "mcp-requests" from --request-topic-arn: ${expected}`,
    );
    expectRefused(
      { flags: { backend: 'sns-sqs', requestTopicArn: TOPIC }, env: { ASYNCMCP_RESPONSE_TOPIC_ARN: QUEUE } },
      'invalid-value',
      `invalid response topic ARN "${QUEUE}" from environment variable ASYNCMCP_RESPONSE_TOPIC_ARN: ${expected}`,
    );
    // An SQS queue ARN is an easy mistake to make.
    expectRefused(
      {
        flags: { backend: 'sns-sqs' },
        file: {
          path: 'g.yaml',
          contents: 'requestTopicArn: arn:aws:sqs:us-east-1:123456789012:mcp-requests',
        },
      },
      'invalid-value',
      `invalid request topic ARN "arn:aws:sqs:us-east-1:123456789012:mcp-requests" from key requestTopicArn in config file "g.yaml": ${expected}`,
    );
  });
});

describe('resolveConfig: settings of another backend, one line each', () => {
  it('refuses --request-queue-url with sns-sqs, naming what sns-sqs takes instead', () => {
    expectRefused(
      { flags: { backend: 'sns-sqs', requestTopicArn: TOPIC, requestQueueUrl: QUEUE } },
      'setting-not-for-backend',
      '--request-queue-url belongs to the sqs backend, not sns-sqs: remove it, or choose --backend sqs; the sns-sqs backend takes --request-topic-arn instead',
    );
    // Before the missing topic: the queue URL is the likelier mistake, and the message names the topic flag.
    expectRefused(
      { flags: { backend: 'sns-sqs', requestQueueUrl: QUEUE } },
      'setting-not-for-backend',
      '--request-queue-url belongs to the sqs backend, not sns-sqs: remove it, or choose --backend sqs; the sns-sqs backend takes --request-topic-arn instead',
    );
  });

  it('says where a setting of another backend came from when it is not a flag', () => {
    expectRefused(
      { flags: { backend: 'sns-sqs', requestTopicArn: TOPIC }, env: { ASYNCMCP_REQUEST_QUEUE_URL: QUEUE } },
      'setting-not-for-backend',
      '--request-queue-url (set by environment variable ASYNCMCP_REQUEST_QUEUE_URL) belongs to the sqs backend, not sns-sqs: remove it, or choose --backend sqs; the sns-sqs backend takes --request-topic-arn instead',
    );
    expectRefused(
      {
        env: { BACKEND_TRANSPORT: 'sqs' },
        flags: { requestQueueUrl: QUEUE },
        file: { path: 'g.yaml', contents: `responseTopicArn: ${OTHER_TOPIC}` },
      },
      'setting-not-for-backend',
      '--response-topic-arn (set by key responseTopicArn in config file "g.yaml") belongs to the sns-sqs backend, not sqs: remove it, or choose --backend sns-sqs',
    );
  });

  it('refuses the topic settings with the sqs backend', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, requestTopicArn: TOPIC } },
      'setting-not-for-backend',
      '--request-topic-arn belongs to the sns-sqs backend, not sqs: remove it, or choose --backend sns-sqs; the sqs backend takes --request-queue-url instead',
    );
    expectRefused(
      { flags: { backend: 'sqs', requestQueueUrl: QUEUE, responseTopicArn: OTHER_TOPIC } },
      'setting-not-for-backend',
      '--response-topic-arn belongs to the sns-sqs backend, not sqs: remove it, or choose --backend sns-sqs',
    );
  });

  it('takes --response-queue-url with both backends', () => {
    expect(
      resolve({ flags: { requestQueueUrl: QUEUE, responseQueueUrl: OTHER_QUEUE } }).responseQueueUrl,
    ).toBe(OTHER_QUEUE);
    expect(
      resolve({ flags: { backend: 'sns-sqs', requestTopicArn: TOPIC, responseQueueUrl: OTHER_QUEUE } })
        .responseQueueUrl,
    ).toBe(OTHER_QUEUE);
  });

  it('takes the response queue lease from a flag, the environment or the file, with sqs and sns-sqs', () => {
    expect(resolve({ flags: { requestQueueUrl: QUEUE } }).responseQueueLeaseSeconds).toBe(900);
    expect(
      resolve({ flags: { requestQueueUrl: QUEUE, responseQueueLease: '120' } }).responseQueueLeaseSeconds,
    ).toBe(120);
    expect(
      resolve({
        flags: { backend: 'sns-sqs', requestTopicArn: TOPIC },
        env: { ASYNCMCP_RESPONSE_QUEUE_LEASE: '3600' },
      }).responseQueueLeaseSeconds,
    ).toBe(3600);
    expect(
      resolve({
        flags: { requestQueueUrl: QUEUE },
        file: { path: 'g.yaml', contents: 'responseQueueLease: 300' },
      }).responseQueueLeaseSeconds,
    ).toBe(300);
  });

  it('refuses a response queue lease out of bounds, with a response queue it was given, or with webhook', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, responseQueueLease: '30' } },
      'invalid-value',
      'invalid response queue lease "30" from --response-queue-lease: expected a whole number of seconds from 60 to 604800 (a week)',
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE }, env: { ASYNCMCP_RESPONSE_QUEUE_LEASE: '90.5' } },
      'invalid-value',
      'invalid response queue lease "90.5" from environment variable ASYNCMCP_RESPONSE_QUEUE_LEASE: expected a whole number of seconds from 60 to 604800 (a week)',
    );
    expectRefused(
      {
        flags: { requestQueueUrl: QUEUE, responseQueueUrl: OTHER_QUEUE },
        env: { ASYNCMCP_RESPONSE_QUEUE_LEASE: '120' },
      },
      'invalid-value',
      '--response-queue-lease (from environment variable ASYNCMCP_RESPONSE_QUEUE_LEASE) applies to a response queue the gateway makes, and --response-queue-url gives it one: remove one of them',
    );
    expectRefused(
      { flags: { backend: 'webhook', serverUrl: SERVER, responseQueueLease: '120' } },
      'setting-not-for-backend',
      '--response-queue-lease belongs to the sqs and sns-sqs backends, not webhook: remove it, or choose --backend sqs',
    );
  });

  it('refuses the queue and topic settings with webhook and hybrid, naming --server-url instead', () => {
    expectRefused(
      { flags: { backend: 'webhook', serverUrl: SERVER, requestQueueUrl: QUEUE } },
      'setting-not-for-backend',
      '--request-queue-url belongs to the sqs backend, not webhook: remove it, or choose --backend sqs; the webhook backend takes --server-url instead',
    );
    expectRefused(
      { flags: { backend: 'hybrid', serverUrl: SERVER }, env: { ASYNCMCP_REQUEST_TOPIC_ARN: TOPIC } },
      'setting-not-for-backend',
      '--request-topic-arn (set by environment variable ASYNCMCP_REQUEST_TOPIC_ARN) belongs to the sns-sqs backend, not hybrid: remove it, or choose --backend sns-sqs; the hybrid backend takes --server-url instead',
    );
    expectRefused(
      { flags: { backend: 'webhook', serverUrl: SERVER, responseQueueUrl: OTHER_QUEUE } },
      'setting-not-for-backend',
      '--response-queue-url belongs to the sqs and sns-sqs backends, not webhook: remove it, or choose --backend sqs',
    );
    expectRefused(
      { flags: { backend: 'webhook', serverUrl: SERVER, region: 'us-east-1' } },
      'setting-not-for-backend',
      '--region belongs to the sqs and sns-sqs backends, not webhook: remove it, or choose --backend sqs',
    );
    expectRefused(
      {
        flags: { backend: 'hybrid', serverUrl: SERVER },
        file: { path: 'g.yaml', contents: 'endpointUrl: http://127.0.0.1:4566' },
      },
      'setting-not-for-backend',
      '--endpoint-url (set by key endpointUrl in config file "g.yaml") belongs to the sqs and sns-sqs backends, not hybrid: remove it, or choose --backend sqs',
    );
  });

  it('refuses the webhook settings with sqs and sns-sqs, naming what they take instead', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, serverUrl: SERVER } },
      'setting-not-for-backend',
      '--server-url belongs to the webhook and hybrid backends, not sqs: remove it, or choose --backend webhook; the sqs backend takes --request-queue-url instead',
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, webhookPath: '/hooks' } },
      'setting-not-for-backend',
      '--webhook-path belongs to the webhook and hybrid backends, not sqs: remove it, or choose --backend webhook',
    );
  });

  it("ignores other tools' AWS_REGION and AWS_ENDPOINT_URL with webhook and hybrid, where ours are refused", () => {
    const config = resolve({
      flags: { backend: 'webhook', serverUrl: SERVER },
      env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' },
    });
    expect(config.region).toBeUndefined();
    expect(config.endpointUrl).toBeUndefined();
    expect(
      configError(() =>
        resolve({ flags: { backend: 'webhook', serverUrl: SERVER }, env: { ASYNCMCP_REGION: 'us-east-1' } }),
      ).reason,
    ).toBe('setting-not-for-backend');
  });

  it('names the backends of every backend-specific setting in its help', () => {
    for (const setting of SETTINGS) {
      if (!('backends' in setting)) continue;
      expect(setting.description.startsWith(`${setting.backends.join(', ')}: `)).toBe(true);
    }
  });
});

describe('resolveConfig: the webhook and hybrid backends', () => {
  it('takes a server URL, and leaves the webhook base URL to the listening address on loopback', () => {
    expect(resolve({ flags: { backend: 'webhook', serverUrl: SERVER } })).toMatchObject({
      backend: 'webhook',
      serverUrl: SERVER,
      webhookBaseUrl: undefined,
      webhookPath: '/webhooks',
      signingSecret: undefined,
      requestQueueUrl: undefined,
      region: undefined,
      endpointUrl: undefined,
      host: '127.0.0.1',
      port: 8080,
    });
    for (const host of ['localhost', '::1']) {
      expect(
        resolve({ flags: { backend: 'hybrid', serverUrl: SERVER, host } }).webhookBaseUrl,
      ).toBeUndefined();
    }
  });

  it('reads every webhook setting from flags, ASYNCMCP_ variables and the config file, in that order', () => {
    const file = {
      path: 'g.yaml',
      contents: [
        'backend: hybrid',
        'serverUrl: http://file.internal:8000/mcp',
        'webhookBaseUrl: http://file-gateway.internal:8080',
        'webhookPath: /file-hooks',
        `signingSecret: ${SIGNING_SECRET}ZmlsZQ==`,
        'host: 0.0.0.0',
        'authToken: file-token-1234',
      ].join('\n'),
    };
    expect(resolve({ file })).toMatchObject({
      backend: 'hybrid',
      serverUrl: 'http://file.internal:8000/mcp',
      webhookBaseUrl: 'http://file-gateway.internal:8080',
      webhookPath: '/file-hooks',
      signingSecret: `${SIGNING_SECRET}ZmlsZQ==`,
      host: '0.0.0.0',
    });
    const env = {
      ASYNCMCP_SERVER_URL: 'http://env.internal:8000/mcp',
      ASYNCMCP_WEBHOOK_BASE_URL: 'https://env-gateway.example.com/prefix/',
      ASYNCMCP_WEBHOOK_PATH: '/env/hooks/',
      ASYNCMCP_SIGNING_SECRET: `${SIGNING_SECRET}ZW52`,
    };
    expect(resolve({ file, env })).toMatchObject({
      serverUrl: 'http://env.internal:8000/mcp',
      // Kept without the trailing slash: the session paths go below it.
      webhookBaseUrl: 'https://env-gateway.example.com/prefix',
      webhookPath: '/env/hooks',
      signingSecret: `${SIGNING_SECRET}ZW52`,
    });
    expect(
      resolve({
        file,
        env,
        flags: {
          backend: 'webhook',
          serverUrl: SERVER,
          webhookBaseUrl: 'http://flag-gateway:9000',
          webhookPath: '/flag-hooks',
          signingSecret: `whsec_${Buffer.alloc(24, 7).toString('base64')}`,
        },
      }),
    ).toMatchObject({
      backend: 'webhook',
      serverUrl: SERVER,
      webhookBaseUrl: 'http://flag-gateway:9000',
      webhookPath: '/flag-hooks',
      signingSecret: `whsec_${Buffer.alloc(24, 7).toString('base64')}`,
    });
  });

  it('refuses webhook and hybrid without a server URL', () => {
    expectRefused(
      { flags: { backend: 'webhook' } },
      'missing-server-url',
      "the webhook backend needs the server's endpoint, such as http://mcp.internal:8000/mcp/request: pass --server-url, set ASYNCMCP_SERVER_URL, or add serverUrl to the config file",
    );
    expectRefused(
      { env: { ASYNCMCP_BACKEND: 'hybrid' } },
      'missing-server-url',
      "the hybrid backend needs the server's endpoint, such as http://mcp.internal:8000/mcp: pass --server-url, set ASYNCMCP_SERVER_URL, or add serverUrl to the config file",
    );
    expectRefused(
      { flags: { backend: 'webhook', serverUrl: 'mcp.internal:8000' } },
      'invalid-value',
      'invalid server URL "mcp.internal:8000" from --server-url: expected the http(s) URL of the async MCP server, such as http://mcp.internal:8000/mcp/request',
    );
  });

  it('requires a webhook base URL when --host is not loopback', () => {
    expectRefused(
      { flags: { backend: 'webhook', serverUrl: SERVER, host: '0.0.0.0' } },
      'missing-webhook-base-url',
      'the webhook backend needs the URL at which the server reaches this gateway, since --host 0.0.0.0 is not loopback: pass --webhook-base-url (such as http://gateway-1.internal:8080), set ASYNCMCP_WEBHOOK_BASE_URL, or add webhookBaseUrl to the config file',
    );
    expectRefused(
      { flags: { backend: 'hybrid', serverUrl: SERVER }, env: { ASYNCMCP_HOST: '10.0.0.5' } },
      'missing-webhook-base-url',
      'the hybrid backend needs the URL at which the server reaches this gateway, since --host 10.0.0.5 (from environment variable ASYNCMCP_HOST) is not loopback: pass --webhook-base-url (such as http://gateway-1.internal:8080), set ASYNCMCP_WEBHOOK_BASE_URL, or add webhookBaseUrl to the config file',
    );
    expect(
      resolve({
        flags: {
          backend: 'webhook',
          serverUrl: SERVER,
          host: '0.0.0.0',
          webhookBaseUrl: 'http://gw:8080',
          insecureNoAuth: true,
        },
      }).webhookBaseUrl,
    ).toBe('http://gw:8080');
  });

  it('refuses a webhook base URL with a query, fragment or credentials, or not http(s)', () => {
    const expected =
      'expected the http(s) URL at which the server reaches this gateway, such as http://gateway-1.internal:8080 (no query, fragment or credentials)';
    for (const value of ['http://gw:8080/?a=1', 'http://gw:8080/#x', 'http://user:pw@gw:8080', 'ftp://gw']) {
      expectRefused(
        { flags: { backend: 'webhook', serverUrl: SERVER, webhookBaseUrl: value } },
        'invalid-value',
        `invalid webhook base URL ${JSON.stringify(value)} from --webhook-base-url: ${expected}`,
      );
    }
  });

  it('refuses a webhook path that is the root, not a path, or overlaps the MCP endpoint or a probe', () => {
    for (const value of ['/', 'webhooks', '/a b', '/hooks?x=1', '//']) {
      expectRefused(
        { flags: { backend: 'webhook', serverUrl: SERVER, webhookPath: value } },
        'invalid-value',
        `invalid webhook path ${JSON.stringify(value)} from --webhook-path: expected a path below the root, such as /webhooks`,
      );
    }
    expectRefused(
      { flags: { backend: 'webhook', serverUrl: SERVER, webhookPath: '/mcp' } },
      'invalid-value',
      'the webhook path /mcp (from --webhook-path) overlaps the MCP endpoint /mcp: choose another --webhook-path, such as /webhooks',
    );
    expectRefused(
      { flags: { backend: 'hybrid', serverUrl: SERVER, path: '/webhooks/mcp' } },
      'invalid-value',
      'the webhook path /webhooks overlaps the MCP endpoint /webhooks/mcp: choose another --webhook-path, such as /asyncmcp-webhooks',
    );
    expectRefused(
      { flags: { backend: 'webhook', serverUrl: SERVER }, env: { ASYNCMCP_WEBHOOK_PATH: '/health/hooks' } },
      'invalid-value',
      "the webhook path /health/hooks (from environment variable ASYNCMCP_WEBHOOK_PATH) overlaps the gateway's /health: choose another --webhook-path, such as /webhooks",
    );
    // A prefix that is not a whole segment is no overlap.
    expect(
      resolve({ flags: { backend: 'webhook', serverUrl: SERVER, webhookPath: '/mcphooks' } }).webhookPath,
    ).toBe('/mcphooks');
  });

  it('refuses a signing secret that is not base64 or too short, without echoing it', () => {
    const short = 'too-short-secret';
    const error = configError(() =>
      resolve({ flags: { backend: 'webhook', serverUrl: SERVER, signingSecret: short.slice(0, 15) } }),
    );
    expect(error.reason).toBe('invalid-value');
    expect(error.message).toBe(
      'the signing secret from --signing-secret is not a Standard Webhooks secret: use base64, optionally after whsec_, such as the output of openssl rand -base64 32 (a passphrase keeps its key as whsec_ followed by its base64)',
    );
    expect(error.message).not.toContain(short.slice(0, 15));
    const whsec = `whsec_${Buffer.alloc(8, 1).toString('base64')}`;
    const decoded = configError(() =>
      resolve({ flags: { backend: 'hybrid', serverUrl: SERVER }, env: { ASYNCMCP_SIGNING_SECRET: whsec } }),
    );
    expect(decoded.message).toBe(
      'the signing secret from environment variable ASYNCMCP_SIGNING_SECRET is too short: use at least 16 bytes after base64 decoding (8 given), such as the output of openssl rand -base64 32',
    );
    expect(decoded.message).not.toContain(whsec);
    expect(
      configError(() =>
        resolve({
          flags: { backend: 'webhook', serverUrl: SERVER },
          file: { path: 'g.yaml', contents: 'signingSecret: 12345' },
        }),
      ).message,
    ).toBe(
      'invalid signing secret from key signingSecret in config file "g.yaml": expected a string (base64, optionally after whsec_)',
    );
    // 16 bytes is enough, with the whsec_ prefix or without.
    const enough = Buffer.alloc(16, 2).toString('base64');
    for (const secret of [enough, `whsec_${enough}`]) {
      expect(
        resolve({ flags: { backend: 'webhook', serverUrl: SERVER, signingSecret: secret } }).signingSecret,
      ).toBe(secret);
    }
  });
});

describe('readConfigFile', () => {
  it('refuses a missing file with a hint', () => {
    const error = configError(() => readConfigFile('/no/such/dir/gateway.yaml'));
    expect(error.reason).toBe('config-file-unreadable');
    expect(error.message).toBe(
      'cannot read config file "/no/such/dir/gateway.yaml": no such file; check the path given to --config or ASYNCMCP_CONFIG',
    );
  });

  it('refuses a directory and unreadable files', () => {
    expect(configError(() => readConfigFile(tmpdir())).message).toBe(
      `cannot read config file "${tmpdir()}": it is a directory; check the path given to --config or ASYNCMCP_CONFIG`,
    );
    const denied = () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    expect(configError(() => readConfigFile('secret.yaml', denied)).message).toBe(
      'cannot read config file "secret.yaml": permission denied; check the path given to --config or ASYNCMCP_CONFIG',
    );
  });
});

describe('resolveDemoConfig', () => {
  it('defaults to sqs on 127.0.0.1:8080 and quiet logs', () => {
    expect(resolveDemoConfig({})).toEqual({
      backend: 'sqs',
      port: 8080,
      host: '127.0.0.1',
      logLevel: 'warn',
    });
  });

  it('runs over sns-sqs (or sns_sqs) when asked', () => {
    expect(resolveDemoConfig({ backend: 'sns-sqs' }).backend).toBe('sns-sqs');
    expect(resolveDemoConfig({ backend: 'sns_sqs' }).backend).toBe('sns-sqs');
    expect(configError(() => resolveDemoConfig({ backend: 'kafka' })).message).toBe(
      'unknown backend "kafka" from --backend: expected one of sqs, sns-sqs, webhook, hybrid',
    );
  });

  it('checks its flags like the gateway does', () => {
    expect(resolveDemoConfig({ port: '0', host: '::1', logLevel: 'debug' })).toEqual({
      backend: 'sqs',
      port: 0,
      host: '::1',
      logLevel: 'debug',
    });
    expect(configError(() => resolveDemoConfig({ port: 'x' })).message).toBe(
      'invalid port "x" from --port: expected a whole number from 0 to 65535 (0 picks a free port)',
    );
  });
});

// A type-level check that flags accept what the CLI parser produces.
const _flags: FlagValues = { corsOrigins: ['a'], stdio: true, port: '1', config: 'c.yaml' };
void _flags;

describe('resolveConfig: bounds under abuse', () => {
  const refusal = (host: string, from = '') =>
    `--host ${host}${from} exposes the gateway to the network without a bearer token: set one with --auth-token (or ASYNCMCP_AUTH_TOKEN), or pass --insecure-no-auth (or ASYNCMCP_INSECURE_NO_AUTH=true) if something in front of the gateway authenticates its clients`;

  it('refuses a --host other than loopback without a token, naming both ways out', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, host: '0.0.0.0' } },
      'missing-auth-token',
      refusal('0.0.0.0'),
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE }, env: { ASYNCMCP_HOST: '::' } },
      'missing-auth-token',
      refusal('::', ' (from environment variable ASYNCMCP_HOST)'),
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE }, file: { path: 'g.yaml', contents: 'host: 10.0.0.5' } },
      'missing-auth-token',
      refusal('10.0.0.5', ' (from key host in config file "g.yaml")'),
    );
  });

  it('allows it with a token, or with --insecure-no-auth; loopback and stdio need neither', () => {
    expect(
      resolve({ flags: { requestQueueUrl: QUEUE, host: '0.0.0.0', authToken: 'a-long-token' } }).host,
    ).toBe('0.0.0.0');
    const insecure = resolve({ flags: { requestQueueUrl: QUEUE, host: '0.0.0.0', insecureNoAuth: true } });
    expect(insecure.insecureNoAuth).toBe(true);
    expect(
      resolve({
        flags: { requestQueueUrl: QUEUE },
        env: { ASYNCMCP_HOST: '0.0.0.0', ASYNCMCP_INSECURE_NO_AUTH: 'true' },
      }).insecureNoAuth,
    ).toBe(true);
    for (const host of ['127.0.0.1', 'localhost', '::1']) {
      expect(resolve({ flags: { requestQueueUrl: QUEUE, host } }).host).toBe(host);
    }
    // In stdio mode MCP is on stdin/stdout; --host binds only a webhook receiver.
    expect(resolve({ flags: { requestQueueUrl: QUEUE, host: '0.0.0.0', stdio: true } }).stdio).toBe(true);
  });

  it('refuses a headers timeout longer than the request timeout, and limits that are not positive', () => {
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, httpHeadersTimeout: '90' } },
      'invalid-value',
      'the HTTP headers timeout (90 s) must not be longer than the HTTP request timeout (60 s): change --http-headers-timeout or --http-request-timeout',
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, maxConnections: '0' } },
      'invalid-value',
      'invalid max connections "0" from --max-connections: expected a whole number of at least 1',
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, maxInFlightPerSession: '-1' } },
      'invalid-value',
      'invalid max in-flight per session "-1" from --max-in-flight-per-session: expected a whole number of at least 1',
    );
    expectRefused(
      { flags: { requestQueueUrl: QUEUE, httpKeepAliveTimeout: '0' } },
      'invalid-value',
      'invalid HTTP keep-alive timeout "0" from --http-keep-alive-timeout: expected a number of seconds greater than 0, such as 30 or 0.5',
    );
  });

  it('documents the defaults it applies', () => {
    const config = resolve({ flags: { requestQueueUrl: QUEUE } });
    const documented = (key: string) =>
      (SETTINGS as readonly SettingSpec[]).find((setting) => setting.key === key)?.defaultText;
    expect(documented('maxInFlightPerSession')).toBe(String(config.maxInFlightPerSession));
    expect(documented('httpHeadersTimeout')).toBe(String(config.http.headersTimeoutMs / 1000));
    expect(documented('httpRequestTimeout')).toBe(String(config.http.requestTimeoutMs / 1000));
    expect(documented('httpKeepAliveTimeout')).toBe(String(config.http.keepAliveTimeoutMs / 1000));
    expect(documented('maxConnections')).toBe(String(config.http.maxConnections));
    expect(documented('publicMetrics')).toMatch(/^false/);
    expect(documented('insecureNoAuth')).toMatch(/^false/);
  });
});
