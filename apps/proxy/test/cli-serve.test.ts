import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SnsSqsClientTransport } from '@asyncmcp/sns-sqs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { DEFAULT_INHERITED_ENV_VARS } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CliProcess,
  cleanEnv,
  emulatorBackendFlags,
  parseLog,
  within,
  writeConfigFile,
} from './cli-process.js';
import { sqsClientTransport, textOfCall, useCliEmulator, useGatewayClients } from './e2e-suite.js';
import { textOf } from './test-server.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));

/** Whether `pid` is a running process (a zombie waiting to be reaped counts as gone). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = procStat(pid);
  return stat === undefined || stat.state !== 'Z';
}

/** State and parent of a process from /proc (Linux); undefined where there is no /proc. */
function procStat(pid: number): { state: string; parent: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …"; comm may hold spaces and parentheses, so read after the last ")".
    const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state ?? '', parent: Number(parent) };
  } catch {
    return undefined;
  }
}

// `asyncmcp-proxy serve`: the real CLI puts a stdio (or Streamable HTTP) MCP server on the emulator's
// SQS queue, and SDK clients reach it through SqsClientTransport.
describe('asyncmcp-proxy serve (end to end)', () => {
  const sqs = useCliEmulator();
  const httpServers: Server[] = [];
  // Registered before the clients' hook, so it runs after it (after-hooks run newest first): the clients
  // close, and the CLI processes go, while the HTTP upstreams still answer.
  afterEach(() => {
    for (const server of httpServers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
  });
  const { connectOver } = useGatewayClients('cli-serve-e2e');

  const sqsFlags = (requestQueueUrl: string) =>
    emulatorBackendFlags(sqs, 'sqs', ['--request-queue-url', requestQueueUrl]);

  /** `serve` of the stdio fixture on a new request queue (or the one given), once it says it is serving. */
  async function serveFixture(
    extraArgs: string[] = [],
    queueUrl?: string,
  ): Promise<{ cli: CliProcess; requestQueueUrl: string; serving: Record<string, unknown> }> {
    const requestQueueUrl = queueUrl ?? (await sqs.createQueue('cli-serve-requests'));
    const cli = new CliProcess(
      ['serve', ...sqsFlags(requestQueueUrl), ...extraArgs, '--', process.execPath, FIXTURE],
      cleanEnv(),
    );
    return { cli, requestQueueUrl, serving: await cli.waitForLog('serving') };
  }

  /** An SDK client on its own response queue, connected through the request queue. */
  async function connect(requestQueueUrl: string): Promise<Client> {
    return connectOver(
      await sqsClientTransport(sqs, requestQueueUrl, 'cli-serve-client'),
      'connecting over SQS',
    );
  }

  async function pidOf(client: Client): Promise<number> {
    return Number(textOf(await within(client.callTool({ name: 'whoami', arguments: {} }), 'whoami')));
  }

  it('serves a stdio MCP server to an SDK client over SQS', async () => {
    const { cli, requestQueueUrl, serving } = await serveFixture();
    expect(serving).toMatchObject({
      backend: 'sqs',
      requestQueueUrl,
      command: process.execPath,
      args: [FIXTURE],
      maxSessions: 100,
      sessionIdleTimeoutSeconds: 1800,
      requestTimeoutSeconds: 300,
    });

    const client = await connect(requestQueueUrl);
    expect(client.getServerVersion()?.name).toBe('serve-fixture');
    const { tools } = await within(client.listTools(), 'tools/list');
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'args',
      'crash',
      'echo',
      'environment',
      'getenv',
      'whoami',
    ]);
    expect(await textOfCall(client, 'echo', { text: 'over SQS' })).toBe('echo: over SQS');
    await cli.waitForLog('session opened');
    // Every stdout line is a JSON log line.
    expect(cli.lines.stdout.every((line) => parseLog(line) !== undefined)).toBe(true);
  });

  it('runs one child process per session', async () => {
    const { cli, requestQueueUrl } = await serveFixture();
    const first = await connect(requestQueueUrl);
    const second = await connect(requestQueueUrl);
    const [pidA, pidB] = [await pidOf(first), await pidOf(second)];

    expect(pidA).toBeGreaterThan(0);
    expect(pidB).toBeGreaterThan(0);
    expect(pidA).not.toBe(pidB);
    expect(isRunning(pidA)).toBe(true);
    expect(isRunning(pidB)).toBe(true);
    // Both are children of the serve process itself.
    for (const pid of [pidA, pidB]) {
      const stat = procStat(pid);
      if (stat !== undefined) expect(stat.parent).toBe(cli.child.pid);
    }
    // The same session keeps its process.
    expect(await pidOf(first)).toBe(pidA);
    const opened = cli.lines.stdout.map(parseLog).filter((log) => log?.msg === 'session opened');
    expect(new Set(opened.map((log) => log?.sessionId)).size).toBe(2);
  });

  it('exits 0 on SIGTERM after ending every session and its child process', async () => {
    const { cli, requestQueueUrl } = await serveFixture();
    const pids = [await pidOf(await connect(requestQueueUrl)), await pidOf(await connect(requestQueueUrl))];
    expect(pids.every(isRunning)).toBe(true);

    cli.child.kill('SIGTERM');
    expect(await cli.waitForExit()).toEqual({ code: 0, signal: null });
    // Gone (and reaped) by the time serve exits — not merely orphaned to die on their own later.
    expect(pids.filter(isRunning)).toEqual([]);
    // The children share serve's stderr, so the output ends only once they are gone too.
    await within(cli.drained, 'the end of the output');
    const logs = cli.lines.stdout.map(parseLog);
    expect(logs.filter((log) => log?.msg === 'session closed')).toHaveLength(2);
    expect(logs.find((log) => log?.msg === 'serve stopped')).toMatchObject({ sessions: 2 });
  });

  it('answers a call whose child crashes with a JSON-RPC error, and keeps serving', async () => {
    const { cli, requestQueueUrl } = await serveFixture();
    const client = await connect(requestQueueUrl);
    const pid = await pidOf(client);

    const error = await within(
      client.callTool({ name: 'crash', arguments: {} }).then(
        () => undefined,
        (caught: unknown) => caught,
      ),
      'the answer to the crashing call',
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toMatch(/ended before answering/);
    await cli.waitForLog('session closed');
    expect(isRunning(pid)).toBe(false);

    // The serve process is still there, and a new session gets a new child.
    expect(cli.child.exitCode).toBeNull();
    const fresh = await connect(requestQueueUrl);
    expect(await textOfCall(fresh, 'echo', { text: 'still here' })).toBe('echo: still here');
    expect(await pidOf(fresh)).not.toBe(pid);
  });

  it('runs two workers on one request queue with --release-unknown-sessions, every answer from its own session', async () => {
    const release = ['--release-unknown-sessions', '50'];
    const first = await serveFixture(release);
    const second = await serveFixture(release, first.requestQueueUrl);
    for (const worker of [first, second]) {
      expect(worker.serving).toMatchObject({
        requestQueueUrl: first.requestQueueUrl,
        releaseUnknownSessions: 50,
      });
    }

    const sessions = [
      await connect(first.requestQueueUrl),
      await connect(first.requestQueueUrl),
      await connect(first.requestQueueUrl),
    ];
    // A message that reaches the worker not holding its session goes back to the queue until its own
    // worker takes it: every call is answered, by the session that made it.
    const answers = await Promise.all(
      sessions.map(async (client, index) => {
        const texts: string[] = [];
        for (let call = 0; call < 3; call++) {
          const result = await within(
            client.callTool({ name: 'echo', arguments: { text: `client ${index} call ${call}` } }),
            `call ${call} of client ${index}`,
          );
          texts.push(textOf(result));
        }
        return texts;
      }),
    );
    expect(answers).toEqual(
      [0, 1, 2].map((index) => [0, 1, 2].map((call) => `echo: client ${index} call ${call}`)),
    );
    expect([first.cli, second.cli].every((cli) => cli.child.exitCode === null)).toBe(true);
  });

  it('serves a Streamable HTTP MCP server with --upstream-url, one upstream session per session', async () => {
    const upstream = await startHttpUpstream();
    const requestQueueUrl = await sqs.createQueue('cli-serve-upstream');
    const cli = new CliProcess(
      [
        'serve',
        ...sqsFlags(requestQueueUrl),
        '--upstream-url',
        upstream.url,
        '--upstream-header',
        'X-Upstream-Token: sesame, open',
      ],
      cleanEnv(),
    );
    const serving = await cli.waitForLog('serving');
    // Header values can be secrets: the log names the header only.
    expect(serving).toMatchObject({ upstreamUrl: upstream.url, upstreamHeaders: ['X-Upstream-Token'] });
    expect(JSON.stringify(serving)).not.toContain('sesame');

    const first = await connect(requestQueueUrl);
    const second = await connect(requestQueueUrl);
    expect(first.getServerVersion()?.name).toBe('http-upstream');
    expect(await textOfCall(first, 'greet', { name: 'SQS' })).toBe('hello SQS, from the HTTP upstream');
    await within(second.callTool({ name: 'greet', arguments: { name: 'again' } }), 'a second call');
    expect(upstream.sessions.size).toBe(2);
    expect(new Set(upstream.tokens)).toEqual(new Set(['sesame, open']));
  });

  it('takes its settings from a config file and the environment, and passes the command what the file names', async () => {
    const requestQueueUrl = await sqs.createQueue('cli-serve-config');
    const configFile = writeConfigFile('serve.yaml', [
      'backend: sqs',
      `requestQueueUrl: ${requestQueueUrl}`,
      `endpointUrl: ${sqs.endpoint}`,
      'region: us-east-1',
      'maxSessions: 5',
      `command: ${JSON.stringify(process.execPath)}`,
      `args: [${JSON.stringify(FIXTURE)}, --flag, 42]`,
      'env: [SERVE_FIXTURE_SECRET]',
    ]);
    const secret = `secret-${randomUUID()}`;
    // The environment's session cap (1) wins over the file's (5).
    const cli = new CliProcess(
      ['serve', '--config', configFile],
      cleanEnv({ ASYNCMCP_MAX_SESSIONS: '1', SERVE_FIXTURE_SECRET: secret }),
    );
    const serving = await cli.waitForLog('serving');
    expect(serving).toMatchObject({ maxSessions: 1, configFile, args: [FIXTURE, '--flag', '42'] });

    const client = await connect(requestQueueUrl);
    expect(await textOfCall(client, 'getenv', { name: 'SERVE_FIXTURE_SECRET' })).toBe(secret);
    const args = await within(client.callTool({ name: 'args', arguments: {} }), 'args');
    expect(JSON.parse(textOf(args))).toEqual(['--flag', '42']);

    // One session is the cap: a second initialize is refused with a JSON-RPC error.
    await expect(connect(requestQueueUrl)).rejects.toThrow(McpError);
  });

  /** The environment the session's child process runs with, as it reports it. */
  async function childEnvironmentOf(client: Client): Promise<Record<string, string>> {
    const result = await within(client.callTool({ name: 'environment', arguments: {} }), 'environment');
    return JSON.parse(textOf(result)) as Record<string, string>;
  }

  it("hands the child a minimal environment and what --env names, never serve's secrets", async () => {
    const requestQueueUrl = await sqs.createQueue('cli-serve-env');
    const secrets = {
      AWS_SECRET_ACCESS_KEY: `aws-secret-${randomUUID()}`,
      AWS_SESSION_TOKEN: `aws-token-${randomUUID()}`,
      ASYNCMCP_AUTH_TOKEN: `auth-token-${randomUUID()}`,
      AUTH_TOKEN: `auth-token-${randomUUID()}`,
      DATABASE_PASSWORD: `db-${randomUUID()}`,
    };
    const cli = new CliProcess(
      [
        'serve',
        ...sqsFlags(requestQueueUrl),
        '--env',
        'GREETING=hello, world',
        '--env',
        'SHARED_SETTING',
        '--',
        process.execPath,
        FIXTURE,
      ],
      cleanEnv({ ...secrets, SHARED_SETTING: 'from serve', ASYNCMCP_ENV: 'FROM_ENV=ignored' }),
    );
    const serving = await cli.waitForLog('serving');
    expect(serving).toMatchObject({ childEnv: 'minimal', childEnvNames: ['GREETING', 'SHARED_SETTING'] });
    expect(JSON.stringify(serving)).not.toContain('hello, world');

    const client = await connect(requestQueueUrl);
    const childEnv = await childEnvironmentOf(client);
    const text = JSON.stringify(childEnv);
    for (const [name, value] of Object.entries(secrets)) {
      expect(childEnv[name], name).toBeUndefined();
      expect(text).not.toContain(value);
    }
    expect(Object.keys(childEnv).filter((name) => /^(AWS_|ASYNCMCP_)/.test(name))).toEqual([]);
    // What --env names (the flag wins over ASYNCMCP_ENV), and the minimal set the MCP SDK names.
    expect(childEnv).toMatchObject({ GREETING: 'hello, world', SHARED_SETTING: 'from serve' });
    expect(childEnv.FROM_ENV).toBeUndefined();
    expect(childEnv.PATH).toBe(process.env.PATH);
    const allowed = new Set([...DEFAULT_INHERITED_ENV_VARS, 'GREETING', 'SHARED_SETTING']);
    expect(Object.keys(childEnv).filter((name) => !allowed.has(name))).toEqual([]);
  });

  it('hands the child the whole environment with --pass-environment, and only then', async () => {
    const requestQueueUrl = await sqs.createQueue('cli-serve-pass-env');
    const secret = `aws-secret-${randomUUID()}`;
    const cli = new CliProcess(
      ['serve', ...sqsFlags(requestQueueUrl), '--', process.execPath, FIXTURE],
      cleanEnv({ AWS_SECRET_ACCESS_KEY: secret, ASYNCMCP_PASS_ENVIRONMENT: 'true' }),
    );
    expect(await cli.waitForLog('serving')).toMatchObject({ childEnv: 'everything (--pass-environment)' });
    const childEnv = await childEnvironmentOf(await connect(requestQueueUrl));
    expect(childEnv.AWS_SECRET_ACCESS_KEY).toBe(secret);
    expect(childEnv.ASYNCMCP_PASS_ENVIRONMENT).toBe('true');
  });

  /**
   * `serve --backend sns-sqs` of the stdio fixture on a queue subscribed to a new request topic, once it
   * says it is serving.
   */
  async function serveFixtureOverSns(): Promise<{
    cli: CliProcess;
    requestTopicArn: string;
    requestQueueUrl: string;
    serving: Record<string, unknown>;
  }> {
    const requestTopicArn = await sqs.createTopic('cli-serve-requests');
    const requestQueueUrl = await sqs.createQueue('cli-serve-topic-requests');
    await sqs.subscribe(requestTopicArn, requestQueueUrl, { raw: true });
    const cli = new CliProcess(
      [
        'serve',
        ...emulatorBackendFlags(sqs, 'sns-sqs', ['--request-queue-url', requestQueueUrl]),
        '--',
        process.execPath,
        FIXTURE,
      ],
      cleanEnv(),
    );
    return { cli, requestTopicArn, requestQueueUrl, serving: await cli.waitForLog('serving') };
  }

  /** An SDK client publishing to the request topic, answered on a topic and queue of its own. */
  async function connectOverSns(requestTopicArn: string): Promise<Client> {
    const responseTopicArn = await sqs.createTopic('cli-serve-client');
    const responseQueueUrl = await sqs.createQueue('cli-serve-client');
    // Without raw delivery: the client unwraps SNS envelopes.
    await sqs.subscribe(responseTopicArn, responseQueueUrl);
    const transport = new SnsSqsClientTransport({
      snsClient: sqs.snsClient,
      sqsClient: sqs.sqsClient,
      requestTopicArn,
      responseTopicArn,
      responseQueueUrl,
      waitTimeSeconds: 1,
    });
    return connectOver(transport, 'connecting over SNS+SQS');
  }

  it('serves a stdio MCP server over SNS+SQS, one child process per session', async () => {
    const { cli, requestTopicArn, requestQueueUrl, serving } = await serveFixtureOverSns();
    expect(serving).toMatchObject({
      backend: 'sns-sqs',
      requestQueueUrl,
      command: process.execPath,
      args: [FIXTURE],
    });

    const first = await connectOverSns(requestTopicArn);
    expect(first.getServerVersion()?.name).toBe('serve-fixture');
    expect(await textOfCall(first, 'echo', { text: 'over SNS' })).toBe('echo: over SNS');
    const second = await connectOverSns(requestTopicArn);
    const [pidA, pidB] = [await pidOf(first), await pidOf(second)];
    expect(pidA).not.toBe(pidB);
    expect([pidA, pidB].every(isRunning)).toBe(true);

    cli.child.kill('SIGTERM');
    expect(await cli.waitForExit()).toEqual({ code: 0, signal: null });
    expect([pidA, pidB].filter(isRunning)).toEqual([]);
    await within(cli.drained, 'the end of the output');
    expect(cli.lines.stdout.map(parseLog).find((log) => log?.msg === 'serve stopped')).toMatchObject({
      sessions: 2,
    });
  });

  /** An SDK Streamable HTTP server (stateful, one McpServer per session) on a free port. */
  async function startHttpUpstream(): Promise<{ url: string; sessions: Set<string>; tokens: string[] }> {
    const sessions = new Set<string>();
    const tokens: string[] = [];
    const transports = new Map<string, StreamableHTTPServerTransport>();
    const server = createServer(async (req, res) => {
      const token = req.headers['x-upstream-token'];
      if (typeof token === 'string') tokens.push(token);
      const body = req.method === 'POST' ? JSON.parse(await readBody(req)) : undefined;
      const sessionId = req.headers['mcp-session-id'];
      let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
      if (transport === undefined && sessionId === undefined && req.method === 'POST') {
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            sessions.add(id);
            transports.set(id, created);
          },
        });
        const mcp = new McpServer({ name: 'http-upstream', version: '1.0.0' });
        mcp.registerTool('greet', { inputSchema: { name: z.string() } }, async ({ name }) => ({
          content: [{ type: 'text', text: `hello ${name}, from the HTTP upstream` }],
        }));
        await mcp.connect(created);
        transport = created;
      }
      if (transport === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }),
        );
        return;
      }
      await transport.handleRequest(req, res, body);
    });
    httpServers.push(server);
    await within(
      new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)),
      'the HTTP upstream listening',
    );
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/mcp`, sessions, tokens };
  }
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}
