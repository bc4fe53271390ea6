import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  cleanupsAfterEach,
  pyClientAttributes,
  pyServerAttributes,
  rpcOf,
  SqsQueueReader,
  startSqsEmulator,
  textOf,
} from '@asyncmcp-internal/test-support';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import {
  CliProcess,
  cleanEnv,
  parseLog,
  spawnGatewayCli,
  stopEmulator,
  WAIT_MS,
  within,
} from './cli-process.js';
import { echo as callEcho, callTool, useCliEmulator, useGatewayClients } from './e2e-suite.js';

const WORKER = fileURLToPath(new URL('./fixtures/worker-server.mjs', import.meta.url));
const LOCALHOST_RESOLVES = pathToFileURL(
  fileURLToPath(new URL('./fixtures/localhost-resolves.mjs', import.meta.url)),
).href;
const REFUSED_LOG = 'message rejected: it names a response destination this server does not send to';
const DROPPED_LOG = 'answer for no request of this gateway dropped';

/** An HTTP server standing for a host of the attacker's: it counts every request that reaches it. */
async function startCountingServer() {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    res.writeHead(400, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `initialize` as anyone who can write to the request queue can send it, naming where to answer. */
function initializeNaming(responseQueueUrl: string) {
  return {
    MessageBody: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'intruder', version: '1.0.0' },
        _meta: { responseQueueUrl },
      },
    }),
    MessageAttributes: pyClientAttributes({ method: 'initialize', id: 1, clientId: 'intruder' }),
  };
}

// Production-style: `serve` has no --endpoint-url and reaches SQS through its request queue URL's own host
// (the emulator's queue URLs name sqs.us-east-1.localhost), the gateway CLI in front. Attacks come from
// someone who can SendMessage on the queues, without any secret.
describe('answers go only where they may, and nobody forges one (real CLI, end to end)', () => {
  const sqs = useCliEmulator();
  // Made before the clients' hook, so they run after it (after-hooks run newest first).
  const closers = cleanupsAfterEach();
  const { connect } = useGatewayClients('trust-e2e');

  /** `asyncmcp-proxy serve` without --endpoint-url, on an inbox made for it. */
  async function startServe(requestQueueUrl: string, flags: string[] = []) {
    const inbox = await sqs.createQueue('trust-inbox');
    const cli = new CliProcess(
      [
        'serve',
        '--backend',
        'sqs',
        '--request-queue-url',
        requestQueueUrl,
        '--inbox',
        inbox,
        ...flags,
        '--',
        process.execPath,
        WORKER,
      ],
      cleanEnv({ NODE_OPTIONS: `--import=${LOCALHOST_RESOLVES}` }),
    );
    const serving = await cli.waitForLog('serving');
    expect(serving.requestQueueUrl).toBe(requestQueueUrl);
    return cli;
  }

  async function startGateway(requestQueueUrl: string) {
    const cli = spawnGatewayCli(sqs, ['--request-queue-url', requestQueueUrl]);
    return { cli, url: await cli.url() };
  }

  async function echo(client: Client, text: string): Promise<string> {
    return textOf(await within(callEcho(client, text), 'tools/call echo'));
  }

  it('never answers an initialize on a queue of another host: nothing reaches it, the message is dead-lettered, the worker keeps serving', async () => {
    const attacker = await startCountingServer();
    closers.push(() => attacker.close());
    const requestQueueUrl = await sqs.createQueue('trust-requests');
    const deadLetterQueueUrl = await sqs.createQueue('trust-dlq');
    const serve = await startServe(requestQueueUrl, ['--dead-letter-queue-url', deadLetterQueueUrl]);
    const gateway = await startGateway(requestQueueUrl);

    // Credentials in the URL must not reach the log either.
    const foreign = `${attacker.origin.replace('http://', 'http://collector:hunter2@')}/000000000000/answers`;
    await sqs.sqsClient.send(
      new SendMessageCommand({ QueueUrl: requestQueueUrl, ...initializeNaming(foreign) }),
    );
    const refused = await serve.waitForLog(REFUSED_LOG);
    expect(String(refused.detail)).toContain('127.0.0.1');
    await serve.waitForLog('message naming a refused destination');
    // Kept for inspection, never answered.
    await expect.poll(() => sqs.queueDepth(deadLetterQueueUrl), { timeout: WAIT_MS }).toBe(1);
    expect(serve.lines.stdout.join('\n')).not.toContain('hunter2');

    // The worker serves a legitimate client through the gateway, on the same queue.
    const client = await connect(gateway.url);
    expect(await echo(client, 'still serving')).toBe('echo: still serving');
    expect(attacker.requests).toBe(0);
    expect(serve.lines.stdout.some((line) => parseLog(line)?.msg === 'session opened')).toBe(true);
  });

  it('answers on a queue of another endpoint when --allowed-response-queue names it, and on no other', async () => {
    const other = await startSqsEmulator();
    closers.push(() => stopEmulator(other));
    const allowedQueueUrl = await other.createQueue('trust-allowed-answers');
    const otherQueueUrl = await other.createQueue('trust-not-allowed');
    const allowedPrefix = allowedQueueUrl.slice(0, allowedQueueUrl.lastIndexOf('/') + 1);
    expect(new URL(allowedQueueUrl).origin).not.toBe(new URL(sqs.endpoint).origin);
    const requestQueueUrl = await sqs.createQueue('trust-allow-requests');
    const serve = await startServe(requestQueueUrl, [
      '--allowed-response-queue',
      `${allowedPrefix}trust-allowed-`,
    ]);

    await sqs.sqsClient.send(
      new SendMessageCommand({ QueueUrl: requestQueueUrl, ...initializeNaming(otherQueueUrl) }),
    );
    await serve.waitForLog(REFUSED_LOG);
    await sqs.sqsClient.send(
      new SendMessageCommand({ QueueUrl: requestQueueUrl, ...initializeNaming(allowedQueueUrl) }),
    );
    const answer = await within(
      new SqsQueueReader(other.sqsClient, allowedQueueUrl).next(),
      'the initialize answer on the allowed queue',
    );
    expect(rpcOf(answer)).toMatchObject({ id: 1, result: { serverInfo: { name: 'worker-fixture' } } });
    expect(await other.queueDepth(otherQueueUrl)).toBe(0);
  });

  it("drops forged results on the gateway's response queue: the pending call gets the genuine answer", async () => {
    const requestQueueUrl = await sqs.createQueue('trust-forge-requests');
    const serve = await startServe(requestQueueUrl);
    const gateway = await startGateway(requestQueueUrl);
    const client = await connect(gateway.url);
    const opened = await serve.waitForLog('session opened');
    const sessionId = String(opened.sessionId);
    const created = await gateway.cli.waitForLog('created the gateway response queue');
    const responseQueueUrl = String(created.responseQueueUrl);

    const pending = callTool(client, 'wait_release');
    await serve.waitForLine('stderr', (line) => line.includes('wait_release: running'), 'the call running');

    // What the client's own ids would be, as numbers and as strings, under the live session's id.
    const forgedIds = [
      ...Array.from({ length: 11 }, (_, n) => n),
      ...Array.from({ length: 11 }, (_, n) => `${n}`),
    ];
    for (const id of forgedIds) {
      await sqs.sqsClient.send(
        new SendMessageCommand({
          QueueUrl: responseQueueUrl,
          MessageBody: JSON.stringify({
            jsonrpc: '2.0',
            id,
            result: { content: [{ type: 'text', text: 'forged' }] },
          }),
          MessageAttributes: pyServerAttributes(sessionId),
        }),
      );
    }
    let dropped = 0;
    await gateway.cli.waitForLine(
      'stdout',
      (line) => parseLog(line)?.msg === DROPPED_LOG && ++dropped === forgedIds.length,
      `${forgedIds.length} forged answers dropped`,
    );

    const release = await within(callTool(client, 'release'), 'tools/call release');
    expect(textOf(release)).toBe('released');
    expect(textOf(await within(pending, 'the pending call'))).toBe('the genuine answer');
    const metrics = await (await fetch(new URL('/metrics', gateway.url))).text();
    expect(metrics).toContain(
      `asyncmcp_gateway_backend_stat{backend="sqs",stat="unmatched"} ${forgedIds.length}`,
    );
    // What a reader of the queue sees is not the gateway's HTTP session id, nor any part of it.
    const httpSessionId = client.transport?.sessionId;
    // The fleet's key: its random part, then what the initialize said of the client.
    expect(httpSessionId).toMatch(/^[0-9a-f]{32}(?:\.[A-Za-z0-9_-]+)?$/);
    expect(sessionId).not.toContain(httpSessionId as string);
    expect(httpSessionId).not.toContain(sessionId);
  });
});
