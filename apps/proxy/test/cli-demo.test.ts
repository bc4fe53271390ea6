import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema,
  LoggingMessageNotificationSchema,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, cleanEnv, isOrderedSubset, killAll, within } from './cli-process.js';
import { textOf } from './test-server.js';

// `asyncmcp-proxy demo`: emulator, example server and gateway in one process, no AWS account.
describe('asyncmcp-proxy demo (end to end)', () => {
  const clients: Client[] = [];

  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((client) => client.close()));
    await killAll();
  });

  async function startDemo(args: string[] = []): Promise<{ cli: CliProcess; url: string }> {
    const cli = new CliProcess(['demo', '--port', '0', ...args], cleanEnv());
    const line = await cli.waitForLine(
      'stdout',
      (candidate) => candidate.includes('MCP endpoint:'),
      'the URL',
    );
    const url = /MCP endpoint:\s+(\S+)/.exec(line)?.[1];
    if (!url) throw new Error(`no URL in "${line}"`);
    await cli.waitForLine('stdout', (candidate) => candidate.includes('Ctrl-C'), 'the end of the banner');
    return { cli, url };
  }

  it('prints a URL, the backend, a client configuration and an Inspector command', async () => {
    const { cli, url } = await startDemo();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const printed = cli.lines.stdout.join('\n');
    expect(printed).toMatch(/^ {2}Backend: {7}sqs: /m);
    expect(printed).toContain(JSON.stringify({ mcpServers: { 'asyncmcp-demo': { type: 'http', url } } }));
    expect(printed).toContain(
      `npx @modelcontextprotocol/inspector --cli ${url} --transport http --method tools/list`,
    );
  });

  it('serves the demo tools, with progress and log messages through the gateway', async () => {
    const { url } = await startDemo();
    const client = new Client({ name: 'demo-e2e', version: '1.0.0' });
    clients.push(client);
    const logs: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      logs.push(String(notification.params.data));
    });
    await within(client.connect(new StreamableHTTPClientTransport(new URL(url))), 'connecting to the demo');

    const { tools } = await within(client.listTools(), 'tools/list');
    expect(tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['echo', 'add', 'forecast', 'countdown', 'slow_task']),
    );

    const echoed = await within(client.callTool({ name: 'echo', arguments: { text: 'over SQS' } }), 'echo');
    expect(textOf(echoed)).toBe('over SQS');

    const progress: Progress[] = [];
    const counted = await within(
      client.callTool({ name: 'countdown', arguments: { from: 3, intervalMs: 0 } }, CallToolResultSchema, {
        onprogress: (update) => progress.push(update),
      }),
      'countdown',
    );
    expect(textOf(counted)).toBe('Liftoff after counting down from 3!');
    expect(progress.map((update) => update.progress)).toEqual([1, 2, 3]);
    expect(logs).toEqual(['T-3', 'T-2', 'T-1', 'liftoff']);
  });

  it('runs over SNS+SQS with --backend sns-sqs, and says so', async () => {
    const { cli, url } = await startDemo(['--backend', 'sns-sqs']);
    const printed = cli.lines.stdout.join('\n');
    expect(printed).toContain('asyncmcp demo: an MCP server on a local SNS topic fanned out to SQS');
    expect(printed).toMatch(/^ {2}Backend: {7}sns-sqs: /m);

    const client = new Client({ name: 'demo-sns-e2e', version: '1.0.0' });
    clients.push(client);
    await within(client.connect(new StreamableHTTPClientTransport(new URL(url))), 'connecting to the demo');
    const echoed = await within(
      client.callTool({ name: 'echo', arguments: { text: 'over SNS+SQS' } }),
      'echo',
    );
    expect(textOf(echoed)).toBe('over SNS+SQS');
    const ready = await within(fetch(new URL('/ready', url)), 'GET /ready');
    expect(await ready.json()).toEqual({ status: 'ready', backend: 'sns-sqs' });

    cli.child.kill('SIGINT');
    expect(await cli.waitForExit()).toEqual({ code: 0, signal: null });
  });

  it('runs over webhooks on loopback with --backend webhook, no emulator needed', async () => {
    const { cli, url } = await startDemo(['--backend', 'webhook']);
    const printed = cli.lines.stdout.join('\n');
    expect(printed).toContain('asyncmcp demo: an MCP server answering on webhooks');
    expect(printed).toMatch(/^ {2}Backend: {7}webhook: /m);

    const client = new Client({ name: 'demo-webhook-e2e', version: '1.0.0' });
    clients.push(client);
    await within(client.connect(new StreamableHTTPClientTransport(new URL(url))), 'connecting to the demo');
    const echoed = await within(
      client.callTool({ name: 'echo', arguments: { text: 'over webhooks' } }),
      'echo',
    );
    expect(textOf(echoed)).toBe('over webhooks');
    const added = await within(client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }), 'add');
    expect(added.structuredContent).toEqual({ sum: 5 });
    const ready = await within(fetch(new URL('/ready', url)), 'GET /ready');
    expect(await ready.json()).toEqual({ status: 'ready', backend: 'webhook' });

    cli.child.kill('SIGINT');
    expect(await cli.waitForExit()).toEqual({ code: 0, signal: null });
  });

  it('runs the hybrid with --backend hybrid: slow tools answer on the webhook', async () => {
    const { cli, url } = await startDemo(['--backend', 'hybrid']);
    expect(cli.lines.stdout.join('\n')).toMatch(
      /^ {2}Backend: {7}hybrid: .*countdown and slow_task come back on the gateway's webhook$/m,
    );
    const client = new Client({ name: 'demo-hybrid-e2e', version: '1.0.0' });
    clients.push(client);
    await within(client.connect(new StreamableHTTPClientTransport(new URL(url))), 'connecting to the demo');
    const progress: Progress[] = [];
    const counted = await within(
      client.callTool({ name: 'countdown', arguments: { from: 2, intervalMs: 0 } }, CallToolResultSchema, {
        onprogress: (update) => progress.push(update),
      }),
      'countdown',
    );
    expect(textOf(counted)).toBe('Liftoff after counting down from 2!');
    // The answer comes on the webhook, the progress on the stream: those read after it are too late.
    expect(isOrderedSubset(progress, [1, 2])).toBe(true);
    const echoed = await within(
      client.callTool({ name: 'echo', arguments: { text: 'on the stream' } }),
      'echo',
    );
    expect(textOf(echoed)).toBe('on the stream');
  });

  it('stops cleanly on Ctrl-C (SIGINT)', async () => {
    const { cli } = await startDemo();
    cli.child.kill('SIGINT');
    expect(await cli.waitForExit()).toEqual({ code: 0, signal: null });
    expect(cli.lines.stdout).toContain('Stopping the demo…');
  });
});
