import { SqsSessionManager } from '@asyncmcp/sqs';
import { type SqsEmulator, startSqsEmulator } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CliProcess,
  cleanEnv,
  closeClientsAndKillAll,
  emulatorBackendFlags,
  stopEmulator,
  WAIT_MS,
  within,
} from './cli-process.js';

/** A promise and the function that resolves it. */
function signal(): { done: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const done = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { done, fire };
}

// The real CLI (node dist/cli.js) on the emulator's SQS queue; the server, in the test process, has a
// tool that runs until it is told to cancel. A client deletes its session (HTTP DELETE) in the middle
// of a call to it: the call must end with an error saying so, not wait for the SDK's own timeout.
describe('asyncmcp-proxy --backend sqs: a session deleted while a call is pending (end to end)', () => {
  let sqs: SqsEmulator;
  let requestQueueUrl: string;
  let manager: SqsSessionManager;
  let started = signal();
  let cancelled = signal();
  const clients: Client[] = [];

  beforeAll(async () => {
    sqs = await startSqsEmulator();
    requestQueueUrl = await sqs.createQueue('cli-session-delete-requests');
    manager = new SqsSessionManager({
      sqsClient: sqs.sqsClient,
      requestQueueUrl,
      waitTimeSeconds: 1,
      createServer: () => {
        const server = new McpServer({ name: 'cli-blocking-server', version: '1.0.0' });
        server.registerTool('block', { description: 'Runs until cancelled' }, async (extra) => {
          started.fire();
          await new Promise<void>((resolve) =>
            extra.signal.addEventListener('abort', () => {
              cancelled.fire();
              resolve();
            }),
          );
          return { content: [{ type: 'text', text: 'cancelled' }] };
        });
        return server;
      },
    });
    await manager.start();
  });

  afterEach(async () => {
    started = signal();
    cancelled = signal();
    await closeClientsAndKillAll(clients);
  });

  afterAll(async () => {
    await manager.close();
    await stopEmulator(sqs);
  });

  it('settles the pending call with an error naming the DELETE, and cancels it at the server', async () => {
    const cli = new CliProcess(
      [...emulatorBackendFlags(sqs, 'sqs', ['--request-queue-url', requestQueueUrl]), '--port', '0'],
      cleanEnv(),
    );
    const transport = new StreamableHTTPClientTransport(new URL(await cli.url()));
    const client = new Client({ name: 'cli-e2e-delete', version: '1.0.0' });
    clients.push(client);
    await within(client.connect(transport), 'connecting through the gateway');

    // The SDK's own timeout is the bound: a call the gateway left pending would end with it instead.
    const call = client.callTool({ name: 'block', arguments: {} }, undefined, { timeout: WAIT_MS });
    call.catch(() => undefined);
    await within(started.done, 'the call reaching the server');

    await within(transport.terminateSession(), 'DELETE of the session');
    await expect(call).rejects.toThrow(
      'MCP error -32000: Connection closed: the session was deleted (HTTP DELETE) before the server answered',
    );
    await within(cancelled.done, 'the server being told to cancel the call');
    await cli.waitForLog('session deleted by the client');
  });
});
