import { initializeRequest } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  CLI_PATH,
  CliProcess,
  cleanEnv,
  emulatorBackendFlags,
  parseLog,
  within,
} from './cli-process.js';
import { textOfCall, useCliEmulator, useGatewayClients } from './e2e-suite.js';
import { useTestServer } from './test-server.js';

// `asyncmcp-proxy --stdio`: one session on stdin/stdout, as a desktop client launches it.
describe('asyncmcp-proxy --stdio (end to end)', () => {
  beforeAll(() => assertBuilt());
  const sqs = useCliEmulator();
  const { clients } = useGatewayClients('stdio-e2e');
  const testServer = useTestServer(sqs, 'cli-stdio-requests');

  const stdioArgs = () => [
    '--stdio',
    ...emulatorBackendFlags(sqs, 'sqs', ['--request-queue-url', testServer.requestQueueUrl]),
  ];

  it('serves an SDK client that launches it over stdio', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI_PATH, ...stdioArgs()],
      env: cleanEnv(),
      stderr: 'pipe',
    });
    const stderr: string[] = [];
    transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const client = new Client({ name: 'stdio-e2e', version: '1.0.0' });
    clients.push(client);
    // Anything on stdout that is not a JSON-RPC message would surface here.
    const transportErrors: Error[] = [];
    client.onerror = (error) => transportErrors.push(error);

    await within(client.connect(transport), 'connecting over stdio');
    expect(await textOfCall(client, 'greet', { name: 'stdio' })).toBe('hello stdio, from the test server');
    expect(transportErrors).toEqual([]);
    // Logs went to stderr, as JSON lines.
    const logLines = stderr
      .join('')
      .split('\n')
      .filter((line) => line !== '');
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.every((line) => parseLog(line) !== undefined)).toBe(true);
  });

  it('writes only protocol messages on stdout, and exits 0 when stdin ends', async () => {
    const cli = new CliProcess(stdioArgs(), cleanEnv());
    await cli.waitForLog('stdio session started', 'stderr');
    cli.child.stdin.write(
      `${JSON.stringify(
        initializeRequest(1, {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          clientInfo: { name: 'raw-stdio', version: '1.0.0' },
        }),
      )}\n`,
    );
    const answer = JSON.parse(await cli.waitForLine('stdout', () => true, 'the initialize answer'));
    expect(answer).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      result: { serverInfo: { name: 'cli-test-server' } },
    });

    cli.child.stdin.end();
    expect(await cli.waitForExit()).toEqual({ code: 0, signal: null });
    await within(cli.drained, 'the end of the output');
    expect(cli.lines.stdout).toHaveLength(1);
    expect(cli.lines.stderr.every((line) => parseLog(line) !== undefined)).toBe(true);
  });
});
