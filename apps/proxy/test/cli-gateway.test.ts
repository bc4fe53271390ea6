import { LEASE_TAG } from '@asyncmcp/sqs';
import type { SqsEmulator } from '@asyncmcp-internal/test-support';
import { ListTopicsCommand } from '@aws-sdk/client-sns';
import { ListQueuesCommand, ListQueueTagsCommand } from '@aws-sdk/client-sqs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import { CliProcess, cleanEnv, spawnGatewayCli, within, writeConfigFile } from './cli-process.js';
import { textOfCall, useCliEmulator, useGatewayClients } from './e2e-suite.js';
import { textOf, useTestServer } from './test-server.js';

/** URLs of the queues that exist now. */
async function queueUrls(emulator: SqsEmulator): Promise<string[]> {
  return (await emulator.sqsClient.send(new ListQueuesCommand({}))).QueueUrls ?? [];
}

/** ARNs of the topics that exist now. */
async function topicArns(emulator: SqsEmulator): Promise<string[]> {
  const { Topics } = await emulator.snsClient.send(new ListTopicsCommand({}));
  return (Topics ?? []).flatMap((topic) => (topic.TopicArn === undefined ? [] : [topic.TopicArn]));
}

/** Unix seconds until which the queue's lease says its maker is alive. */
async function leaseUntil(emulator: SqsEmulator, queueUrl: string): Promise<number> {
  const { Tags } = await emulator.sqsClient.send(new ListQueueTagsCommand({ QueueUrl: queueUrl }));
  return Number(Tags?.[LEASE_TAG]);
}

/**
 * Opens a session on `cli`, so that it makes its response queue, and checks that queue's lease: `seconds`
 * from when it was made.
 */
async function expectLeaseOnCreatedQueue(
  cli: CliProcess,
  emulator: SqsEmulator,
  connect: (url: string) => Promise<Client>,
  seconds: number,
): Promise<void> {
  expect(await cli.waitForLog('starting the gateway')).toMatchObject({ responseQueueLeaseSeconds: seconds });
  const url = await cli.url();
  const before = Math.floor(Date.now() / 1000);
  await connect(url);
  const created = await cli.waitForLog('created the gateway response queue');
  const after = Math.ceil(Date.now() / 1000);
  const until = await leaseUntil(emulator, String(created.responseQueueUrl));
  expect(until).toBeGreaterThanOrEqual(before + seconds);
  expect(until).toBeLessThanOrEqual(after + seconds);
}

// The real CLI (node dist/cli.js) in front of an async MCP server on the emulator's SQS queue.
describe('asyncmcp-proxy --backend sqs (end to end)', () => {
  const sqs = useCliEmulator();
  const { connect } = useGatewayClients('cli-e2e');
  const testServer = useTestServer(sqs, 'cli-gateway-requests');
  const { server } = testServer;

  const gateway = (flags: string[] = []) =>
    spawnGatewayCli(sqs, ['--request-queue-url', testServer.requestQueueUrl], flags);

  it('serves a tool of the async server to a Streamable HTTP client', async () => {
    const cli = gateway();
    const url = await cli.url();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);

    const client = await connect(url);
    const { tools } = await within(client.listTools(), 'tools/list');
    expect(tools.map((tool) => tool.name).sort()).toEqual(['greet', 'hold']);
    expect(await textOfCall(client, 'greet', { name: 'gateway' })).toBe(
      'hello gateway, from the test server',
    );

    // Every stdout line is a JSON log line.
    expect(cli.lines.stdout.every((line) => JSON.parse(line) !== null)).toBe(true);
  });

  it('takes the region from the queue URL when none is given anywhere', async () => {
    // The emulator's queue URLs name their region (sqs.us-east-1.localhost), as AWS's do.
    expect(testServer.requestQueueUrl).toContain('sqs.us-east-1.');
    const cli = new CliProcess(
      ['--request-queue-url', testServer.requestQueueUrl, '--endpoint-url', sqs.endpoint, '--port', '0'],
      cleanEnv(),
    );
    const client = await connect(await cli.url());
    expect(await textOfCall(client, 'greet', { name: 'region' })).toBe('hello region, from the test server');
  });

  it('answers with JSON bodies instead of SSE streams under --json-response', async () => {
    const cli = gateway(['--json-response']);
    const url = await cli.url();
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const post = (body: unknown, extra: Record<string, string> = {}) =>
      within(
        fetch(url, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(body) }),
        `POST ${JSON.stringify(body).slice(0, 40)}`,
      );
    const initialize = await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    expect(initialize.headers.get('content-type')).toContain('application/json');
    expect(await initialize.json()).toMatchObject({ id: 1, result: { protocolVersion: '2025-06-18' } });
    const session = {
      'mcp-session-id': initialize.headers.get('mcp-session-id') as string,
      'mcp-protocol-version': '2025-06-18',
    };
    await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session)).text();

    const call = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'greet', arguments: { name: 'json' } } },
      session,
    );
    expect(call.headers.get('content-type')).toContain('application/json');
    expect(await call.json()).toMatchObject({
      id: 2,
      result: { content: [{ type: 'text', text: 'hello json, from the test server' }] },
    });
  });

  it('answers /health, /ready and /metrics', async () => {
    const cli = gateway();
    const base = new URL(await cli.url());

    const health = await within(fetch(new URL('/health', base)), 'GET /health');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', sessions: 0 });

    const ready = await within(fetch(new URL('/ready', base)), 'GET /ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', backend: 'sqs' });

    const metrics = await within(fetch(new URL('/metrics', base)), 'GET /metrics');
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('asyncmcp_gateway_sessions ');
  });

  it('takes its settings from a YAML config file and the environment', async () => {
    const configFile = writeConfigFile('gateway.yaml', [
      'backend: sqs',
      `requestQueueUrl: ${testServer.requestQueueUrl}`,
      `endpointUrl: ${sqs.endpoint}`,
      'region: us-east-1',
      'port: 8080',
      'path: /custom/mcp',
      'logLevel: debug',
    ]);
    const token = 'e2e-secret-token';
    // The env port wins over the file's 8080, so the test gets a free port.
    const cli = new CliProcess(
      ['--config', configFile],
      cleanEnv({ ASYNCMCP_PORT: '0', ASYNCMCP_AUTH_TOKEN: token, ASYNCMCP_LOG_LEVEL: 'info' }),
    );
    const url = await cli.url();
    expect(new URL(url).pathname).toBe('/custom/mcp');
    expect(new URL(url).port).not.toBe('8080');
    // The env log level (info) beat the file's debug: no debug lines.
    expect(cli.lines.stdout.some((line) => JSON.parse(line).level === 20)).toBe(false);

    const refused = await within(
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      }),
      'an unauthenticated POST',
    );
    expect(refused.status).toBe(401);

    const client = await connect(url, { Authorization: `Bearer ${token}` });
    expect(await textOfCall(client, 'greet', { name: 'config' })).toBe('hello config, from the test server');
  });

  it('leases the response queue it creates for as long as --response-queue-lease says', async () => {
    await expectLeaseOnCreatedQueue(gateway(['--response-queue-lease', '120']), sqs, connect, 120);
  });

  it('exits 0 on SIGTERM after closing its sessions and deleting the queue it created', async () => {
    const cli = gateway();
    const client = await connect(await cli.url());
    await within(client.callTool({ name: 'greet', arguments: { name: 'x' } }), 'tools/call');
    const created = await cli.waitForLog('created the gateway response queue');
    const responseQueueUrl = String(created.responseQueueUrl);
    expect(await queueUrls(sqs)).toContain(responseQueueUrl);

    cli.child.kill('SIGTERM');
    expect(await cli.waitForExit()).toEqual({ code: 0, signal: null });
    expect(cli.lines.stdout.some((line) => line.includes('"gateway stopped"'))).toBe(true);
    expect(await queueUrls(sqs)).not.toContain(responseQueueUrl);
  });

  it('exits at once on a second signal while the first waits for running requests', async () => {
    const cli = gateway();
    const client = await connect(await cli.url());
    const started = server.holdStarted;
    // Never answered: the server holds it until afterEach, and the gateway is gone by then.
    void client.callTool({ name: 'hold', arguments: {} }).catch(() => undefined);
    await within(started, 'the held call reaching the server');

    cli.child.kill('SIGTERM');
    await cli.waitForLog('shutting down; send the signal again to exit at once');
    cli.child.kill('SIGTERM');
    // 128 + SIGTERM: the exit did not wait for the held request (a graceful stop exits 0).
    expect(await cli.waitForExit()).toEqual({ code: 143, signal: null });
    expect(cli.lines.stdout.some((line) => line.includes('"gateway stopped"'))).toBe(false);
  });
});

// The real CLI with --backend sns-sqs: it publishes to the request topic, the async MCP server reads a
// queue subscribed to it and publishes its answers to the gateway's response topic.
describe('asyncmcp-proxy --backend sns-sqs (end to end)', () => {
  const emulator = useCliEmulator();
  const { connect } = useGatewayClients('cli-e2e');
  const testServer = useTestServer(emulator, 'cli-gateway-requests', { overTopic: true });

  const gateway = (env = cleanEnv()) =>
    spawnGatewayCli(emulator, ['--request-topic-arn', testServer.requestTopicArn], [], env);

  async function greet(client: Client, name: string): Promise<string> {
    return textOf(await within(client.callTool({ name: 'greet', arguments: { name } }), 'tools/call'));
  }

  it('serves a tool of the async server to a Streamable HTTP client', async () => {
    const cli = gateway();
    expect(await cli.waitForLog('starting the gateway')).toMatchObject({
      backend: 'sns-sqs',
      requestTopicArn: testServer.requestTopicArn,
      responseTopicArn: '(created on first session)',
      responseQueueUrl: '(created on first session)',
    });
    const url = await cli.url();

    const client = await connect(url);
    expect(client.getServerVersion()?.name).toBe('cli-test-server');
    const { tools } = await within(client.listTools(), 'tools/list');
    expect(tools.map((tool) => tool.name).sort()).toEqual(['greet', 'hold']);
    expect(await greet(client, 'SNS')).toBe('hello SNS, from the test server');

    const ready = await within(fetch(new URL('/ready', url)), 'GET /ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', backend: 'sns-sqs' });
    expect(cli.lines.stdout.every((line) => JSON.parse(line) !== null)).toBe(true);
  });

  it('leases the response queue it creates for as long as ASYNCMCP_RESPONSE_QUEUE_LEASE says', async () => {
    const cli = gateway(cleanEnv({ ASYNCMCP_RESPONSE_QUEUE_LEASE: '3600' }));
    await expectLeaseOnCreatedQueue(cli, emulator, connect, 3600);
  });

  it('exits 0 on SIGTERM after removing the response topic and queue it created', async () => {
    const cli = gateway();
    const client = await connect(await cli.url());
    expect(await greet(client, 'x')).toBe('hello x, from the test server');
    const responseTopicArn = String(
      (await cli.waitForLog('created the gateway response topic')).responseTopicArn,
    );
    const responseQueueUrl = String(
      (await cli.waitForLog('created the gateway response queue')).responseQueueUrl,
    );
    expect(await topicArns(emulator)).toContain(responseTopicArn);
    expect(await queueUrls(emulator)).toContain(responseQueueUrl);

    cli.child.kill('SIGTERM');
    expect(await cli.waitForExit()).toEqual({ code: 0, signal: null });
    expect(cli.lines.stdout.some((line) => line.includes('"gateway stopped"'))).toBe(true);
    expect(await topicArns(emulator)).not.toContain(responseTopicArn);
    expect(await queueUrls(emulator)).not.toContain(responseQueueUrl);
  });

  it('shares a response topic from the environment with another instance, each reading its own sessions', async () => {
    const responseTopicArn = await emulator.createTopic('cli-gateway-shared-responses');
    const env = cleanEnv({ ASYNCMCP_RESPONSE_TOPIC_ARN: responseTopicArn });
    const first = gateway(env);
    const second = gateway(env);
    expect(await first.waitForLog('starting the gateway')).toMatchObject({ responseTopicArn });
    const [a, b] = [await connect(await first.url()), await connect(await second.url())];
    const answers = await Promise.all([greet(a, 'first'), greet(b, 'second'), greet(a, 'again')]);
    expect(answers).toEqual([
      'hello first, from the test server',
      'hello second, from the test server',
      'hello again, from the test server',
    ]);
    // Each instance made a queue of its own on the shared topic, and no topic.
    for (const cli of [first, second]) {
      await cli.waitForLog('created the gateway response queue');
      expect(cli.lines.stdout.some((line) => line.includes('"created the gateway response topic"'))).toBe(
        false,
      );
    }

    first.child.kill('SIGTERM');
    expect(await first.waitForExit()).toEqual({ code: 0, signal: null });
    // The topic it was given is not its to delete; the other instance keeps working on it.
    expect(await topicArns(emulator)).toContain(responseTopicArn);
    expect(await greet(b, 'still')).toBe('hello still, from the test server');
  });

  it('takes the response topic and queue from a config file, and leaves both when it stops', async () => {
    const responseTopicArn = await emulator.createTopic('cli-gateway-own-responses');
    const responseQueueUrl = await emulator.createQueue('cli-gateway-own-responses');
    // Given both, the subscription is the operator's.
    await emulator.subscribe(responseTopicArn, responseQueueUrl, { raw: true });
    const configFile = writeConfigFile('gateway.yaml', [
      'backend: sns_sqs',
      `requestTopicArn: ${testServer.requestTopicArn}`,
      `responseTopicArn: ${responseTopicArn}`,
      `responseQueueUrl: ${responseQueueUrl}`,
      `endpointUrl: ${emulator.endpoint}`,
      'region: us-east-1',
    ]);
    const cli = new CliProcess(['--config', configFile], cleanEnv({ ASYNCMCP_PORT: '0' }));
    expect(await cli.waitForLog('starting the gateway')).toMatchObject({
      backend: 'sns-sqs',
      requestTopicArn: testServer.requestTopicArn,
      responseTopicArn,
      responseQueueUrl,
      configFile,
    });
    const client = await connect(await cli.url());
    expect(await greet(client, 'config')).toBe('hello config, from the test server');

    cli.child.kill('SIGTERM');
    expect(await cli.waitForExit()).toEqual({ code: 0, signal: null });
    expect(await topicArns(emulator)).toContain(responseTopicArn);
    expect(await queueUrls(emulator)).toContain(responseQueueUrl);
  });
});
