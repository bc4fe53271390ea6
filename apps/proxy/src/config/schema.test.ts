import { readFileSync } from 'node:fs';
import { QUEUE_DEFAULTS, SESSION_DEFAULTS } from '@asyncmcp/core';
import { PROXY_DEFAULTS, SERVE_DEFAULTS } from '@asyncmcp/proxy';
import { SQS_WORKER_DEFAULTS } from '@asyncmcp/sqs';
import { WEBHOOK_DEFAULTS } from '@asyncmcp/webhook';
import { describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { GatewayConfigError, resolveConfig, resolveServeConfig, SERVE_SETTINGS, SETTINGS } from './index.js';
import {
  CONFIG_JSON_SCHEMAS,
  configJsonSchema,
  configJsonSchemaText,
  GATEWAY_FILE_SCHEMA,
  SERVE_FILE_SCHEMA,
} from './schema.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests';
const names = Object.keys(CONFIG_JSON_SCHEMAS) as Array<keyof typeof CONFIG_JSON_SCHEMAS>;

type Branch = { properties: Record<string, { default?: unknown; enum?: string[] }>; required?: string[] };

function branchOf(name: keyof typeof CONFIG_JSON_SCHEMAS, backend: string): Branch {
  const branches = (configJsonSchema(name) as { oneOf: Branch[] }).oneOf;
  return branches.find((branch) => branch.properties.backend?.enum?.includes(backend))!;
}

describe('the config files’ JSON Schemas', () => {
  it.each(
    names,
  )('%s is committed as the settings make it (run `pnpm --filter asyncmcp-proxy schema`)', (name) => {
    const committed = readFileSync(new URL(`../../${name}`, import.meta.url), 'utf8');
    expect(committed).toBe(configJsonSchemaText(name));
  });

  it.each(names)('%s is published with the package', (name) => {
    expect(packageJson.files).toContain(name);
  });

  it('has one object per backend, each with the keys of its backend only', () => {
    const sqs = branchOf('config.schema.json', 'sqs');
    const snsSqs = branchOf('config.schema.json', 'sns-sqs');
    const webhook = branchOf('config.schema.json', 'webhook');
    expect(Object.keys(sqs.properties)).toContain('requestQueueUrl');
    expect(Object.keys(sqs.properties)).not.toContain('serverUrl');
    expect(snsSqs.properties.backend?.enum).toEqual(['sns-sqs', 'sns_sqs']);
    expect(Object.keys(webhook.properties)).not.toContain('region');
    // The backend may be left out for the default; a setting may come from a flag instead of the file.
    expect(sqs.required).toBeUndefined();
    expect(webhook.required).toEqual(['backend']);
  });

  it('states the libraries’ defaults', () => {
    const gateway = branchOf('config.schema.json', 'sqs').properties;
    expect(gateway.port?.default).toBe(PROXY_DEFAULTS.port);
    expect(gateway.host?.default).toBe(PROXY_DEFAULTS.host);
    expect(gateway.maxSessions?.default).toBe(PROXY_DEFAULTS.maxSessions);
    expect(gateway.requestTimeout?.default).toBe(PROXY_DEFAULTS.requestTimeoutMs / 1000);
    expect(gateway.maxConnections?.default).toBe(PROXY_DEFAULTS.http.maxConnections);
    expect(branchOf('config.schema.json', 'webhook').properties.webhookPath?.default).toBe(
      WEBHOOK_DEFAULTS.webhookPath,
    );
    const worker = branchOf('serve-config.schema.json', 'sqs').properties;
    expect(worker.maxSessions?.default).toBe(SERVE_DEFAULTS.maxSessions);
    expect(worker.visibilityTimeout?.default).toBe(QUEUE_DEFAULTS.visibilityTimeoutSeconds);
    expect(worker.aliveInterval?.default).toBe(SQS_WORKER_DEFAULTS.aliveIntervalSeconds);
    expect(branchOf('serve-config.schema.json', 'hybrid').properties.path?.default).toBe(
      WEBHOOK_DEFAULTS.hybridEndpointPath,
    );
  });

  it('accepts a file the resolver accepts, and refuses a key of another backend', () => {
    const file = { requestQueueUrl: QUEUE, port: 9000, corsOrigins: ['https://a.example.com'] };
    expect(GATEWAY_FILE_SCHEMA.safeParse(file).success).toBe(true);
    expect(GATEWAY_FILE_SCHEMA.safeParse({ ...file, serverUrl: 'http://mcp.internal/mcp' }).success).toBe(
      false,
    );
    expect(
      SERVE_FILE_SCHEMA.safeParse({ requestQueueUrl: QUEUE, command: 'node', args: ['s.js'] }).success,
    ).toBe(true);
  });
});

describe('help shows the defaults the libraries name', () => {
  const gatewayDefault = (key: string) => SETTINGS.find((setting) => setting.key === key)?.defaultText;
  const serveDefault = (key: string) => SERVE_SETTINGS.find((setting) => setting.key === key)?.defaultText;

  it('writes each default from its value', () => {
    expect(gatewayDefault('port')).toBe(String(PROXY_DEFAULTS.port));
    expect(gatewayDefault('host')).toBe(PROXY_DEFAULTS.host);
    expect(gatewayDefault('path')).toBe(PROXY_DEFAULTS.path);
    expect(gatewayDefault('maxSessions')).toBe(String(PROXY_DEFAULTS.maxSessions));
    expect(gatewayDefault('sessionIdleTimeout')).toBe(String(PROXY_DEFAULTS.sessionIdleTimeoutMs / 1000));
    expect(gatewayDefault('requestTimeout')).toBe(String(PROXY_DEFAULTS.requestTimeoutMs / 1000));
    expect(gatewayDefault('webhookPath')).toBe(WEBHOOK_DEFAULTS.webhookPath);
    expect(serveDefault('maxSessions')).toBe(String(SERVE_DEFAULTS.maxSessions));
    expect(serveDefault('maxInFlightPerSession')).toBe(String(SESSION_DEFAULTS.maxInFlightPerSession));
    expect(serveDefault('visibilityTimeout')).toBe(String(QUEUE_DEFAULTS.visibilityTimeoutSeconds));
    expect(serveDefault('aliveInterval')).toBe(String(SQS_WORKER_DEFAULTS.aliveIntervalSeconds));
    expect(serveDefault('releaseUnknownSessions')).toMatch(
      new RegExp(`^${SQS_WORKER_DEFAULTS.releaseUnknownSessions} `),
    );
    expect(serveDefault('path')).toBe(
      `${WEBHOOK_DEFAULTS.webhookEndpointPath} with webhook, ${WEBHOOK_DEFAULTS.hybridEndpointPath} with hybrid`,
    );
  });

  it('resolves to the same defaults it shows', () => {
    const config = resolveConfig({ flags: { requestQueueUrl: QUEUE }, env: {} });
    expect(config).toMatchObject({
      port: PROXY_DEFAULTS.port,
      host: PROXY_DEFAULTS.host,
      path: PROXY_DEFAULTS.path,
      requestTimeoutMs: PROXY_DEFAULTS.requestTimeoutMs,
      http: PROXY_DEFAULTS.http,
    });
    const serve = resolveServeConfig({ flags: { requestQueueUrl: QUEUE, command: ['node'] }, env: {} });
    expect(serve).toMatchObject({
      maxSessions: SERVE_DEFAULTS.maxSessions,
      visibilityTimeoutSeconds: QUEUE_DEFAULTS.visibilityTimeoutSeconds,
      aliveIntervalSeconds: SQS_WORKER_DEFAULTS.aliveIntervalSeconds,
    });
  });
});

describe('config file keys', () => {
  it('still refuses a typo of a key, naming the key meant', () => {
    const refusal = (() => {
      try {
        resolveConfig({
          flags: {},
          env: {},
          file: { path: 'g.yaml', contents: `requestQueueURL: ${QUEUE}` },
        });
      } catch (error) {
        return error as GatewayConfigError;
      }
      throw new Error('expected a refusal');
    })();
    expect(refusal).toBeInstanceOf(GatewayConfigError);
    expect(refusal.reason).toBe('unknown-config-key');
    expect(refusal.message).toMatch(
      /^unknown key "requestQueueURL" in config file "g.yaml" \(did you mean requestQueueUrl\?\)/,
    );
  });

  it('takes a JSON file’s $schema key as what it is: the schema, for the editor', () => {
    const contents = JSON.stringify({ $schema: './config.schema.json', requestQueueUrl: QUEUE });
    expect(resolveConfig({ flags: {}, env: {}, file: { path: 'g.json', contents } }).requestQueueUrl).toBe(
      QUEUE,
    );
  });
});
