import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { isOrderedSubset, startDemoCli, within } from './cli-process.js';
import { callWithProgress, textOfCall, useGatewayClients } from './e2e-suite.js';
import { textOf } from './test-server.js';

// `asyncmcp-proxy demo`: emulator, example server and gateway in one process, no AWS account.
describe('asyncmcp-proxy demo (end to end)', () => {
  const { connect } = useGatewayClients('demo-e2e');

  it('prints a URL, the backend, a client configuration and an Inspector command', async () => {
    const { cli, url } = await startDemoCli();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const printed = cli.lines.stdout.join('\n');
    expect(printed).toMatch(/^ {2}Backend: {7}sqs: /m);
    expect(printed).toContain(JSON.stringify({ mcpServers: { 'asyncmcp-demo': { type: 'http', url } } }));
    expect(printed).toContain(
      `npx @modelcontextprotocol/inspector --cli ${url} --transport http --method tools/list`,
    );
  });

  it('serves the demo tools, with progress and log messages through the gateway', async () => {
    const { url } = await startDemoCli();
    const client = await connect(url);
    const logs: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      logs.push(String(notification.params.data));
    });

    const { tools } = await within(client.listTools(), 'tools/list');
    expect(tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['echo', 'add', 'forecast', 'countdown', 'slow_task']),
    );

    const echoed = await within(client.callTool({ name: 'echo', arguments: { text: 'over SQS' } }), 'echo');
    expect(textOf(echoed)).toBe('over SQS');

    const { text: counted, progress } = await callWithProgress(client, 'countdown', {
      from: 3,
      intervalMs: 0,
    });
    expect(counted).toBe('Liftoff after counting down from 3!');
    expect(progress.map((update) => update.progress)).toEqual([1, 2, 3]);
    expect(logs).toEqual(['T-3', 'T-2', 'T-1', 'liftoff']);
  });

  for (const { title, backend, banner } of [
    {
      title: 'runs over SNS+SQS with --backend sns-sqs, and says so',
      backend: 'sns-sqs',
      banner: 'asyncmcp demo: an MCP server on a local SNS topic fanned out to SQS',
    },
    {
      title: 'runs over webhooks on loopback with --backend webhook, no emulator needed',
      backend: 'webhook',
      banner: 'asyncmcp demo: an MCP server answering on webhooks',
    },
  ])
    it(title, async () => {
      const { cli, url } = await startDemoCli(['--backend', backend]);
      const printed = cli.lines.stdout.join('\n');
      expect(printed).toContain(banner);
      expect(printed).toMatch(new RegExp(`^ {2}Backend: {7}${backend}: `, 'm'));

      const client = await connect(url);
      expect(await textOfCall(client, 'echo', { text: backend })).toBe(backend);
      const added = await within(client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }), 'add');
      expect(added.structuredContent).toEqual({ sum: 5 });
      const ready = await within(fetch(new URL('/ready', url)), 'GET /ready');
      expect(await ready.json()).toEqual({ status: 'ready', backend });

      cli.child.kill('SIGINT');
      expect(await cli.waitForExit()).toEqual({ code: 0, signal: null });
    });

  it('runs the hybrid with --backend hybrid: slow tools answer on the webhook', async () => {
    const { cli, url } = await startDemoCli(['--backend', 'hybrid']);
    expect(cli.lines.stdout.join('\n')).toMatch(
      /^ {2}Backend: {7}hybrid: .*countdown and slow_task come back on the gateway's webhook$/m,
    );
    const client = await connect(url);
    const { text: counted, progress } = await callWithProgress(client, 'countdown', {
      from: 2,
      intervalMs: 0,
    });
    expect(counted).toBe('Liftoff after counting down from 2!');
    // The answer comes on the webhook, the progress on the stream: those read after it are too late.
    expect(isOrderedSubset(progress, [1, 2])).toBe(true);
    expect(await textOfCall(client, 'echo', { text: 'on the stream' })).toBe('on the stream');
  });

  it('stops cleanly on Ctrl-C (SIGINT)', async () => {
    const { cli } = await startDemoCli();
    cli.child.kill('SIGINT');
    expect(await cli.waitForExit()).toEqual({ code: 0, signal: null });
    expect(cli.lines.stdout).toContain('Stopping the demo…');
  });
});
