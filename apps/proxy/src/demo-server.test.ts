import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  type CallToolResult,
  CallToolResultSchema,
  LoggingMessageNotificationSchema,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { demoBanner } from './demo.js';
import { createDemoServer, DEMO_TOOLS } from './demo-server.js';

// The demo server's tools, straight over the SDK's in-memory transport: no queue, no gateway.
describe('the demo server', () => {
  let client: Client;
  const logs: string[] = [];

  beforeEach(async () => {
    logs.length = 0;
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await createDemoServer().connect(serverTransport);
    client = new Client({ name: 'demo-test', version: '1.0.0' });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      logs.push(String(notification.params.data));
    });
    await client.connect(clientTransport);
  });

  afterEach(async () => {
    await client.close();
  });

  const text = (result: CallToolResult) => (result.content[0]?.type === 'text' ? result.content[0].text : '');

  it('lists exactly the tools the banner announces', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([...DEMO_TOOLS].sort());
  });

  it('echoes and adds', async () => {
    const echoed = (await client.callTool({ name: 'echo', arguments: { text: 'hi' } })) as CallToolResult;
    expect(text(echoed)).toBe('hi');
    const added = (await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })) as CallToolResult;
    expect(text(added)).toBe('42');
    expect(added.structuredContent).toEqual({ sum: 42 });
  });

  it('forecasts the same weather for the same city, for the days asked', async () => {
    const first = text(
      (await client.callTool({ name: 'forecast', arguments: { city: 'Lisbon', days: 2 } })) as CallToolResult,
    );
    const again = text(
      (await client.callTool({ name: 'forecast', arguments: { city: 'Lisbon', days: 2 } })) as CallToolResult,
    );
    expect(first).toBe(again);
    expect(first.split('\n')).toHaveLength(3);
    expect(first).toMatch(/^Lisbon\nday 1: .+ °C\nday 2: .+ °C$/);
  });

  it('counts down with a progress notification and a log message at every step', async () => {
    const progress: Progress[] = [];
    const result = await client.callTool(
      { name: 'countdown', arguments: { from: 3, intervalMs: 0 } },
      CallToolResultSchema,
      { onprogress: (update) => progress.push(update) },
    );
    expect(text(result as CallToolResult)).toBe('Liftoff after counting down from 3!');
    expect(progress.map((update) => [update.progress, update.total])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(logs).toEqual(['T-3', 'T-2', 'T-1', 'liftoff']);
  });

  it('refuses arguments outside the schema', async () => {
    const result = (await client.callTool({ name: 'countdown', arguments: { from: 100 } })) as CallToolResult;
    expect(result.isError).toBe(true);
  });
});

describe('demoBanner', () => {
  it('prints the URL, a client configuration and an Inspector command', () => {
    const url = 'http://127.0.0.1:8080/mcp';
    const banner = demoBanner(url);
    expect(banner).toContain(`MCP endpoint:  ${url}`);
    expect(banner).toContain(
      '{"mcpServers":{"asyncmcp-demo":{"type":"http","url":"http://127.0.0.1:8080/mcp"}}}',
    );
    expect(banner).toContain(
      `npx @modelcontextprotocol/inspector --cli ${url} --transport http --method tools/list`,
    );
  });

  it('says which backend runs: sqs by default, or sns-sqs', () => {
    const url = 'http://127.0.0.1:8080/mcp';
    const sqs = demoBanner(url);
    expect(sqs).toContain('asyncmcp demo: an MCP server on a local SQS queue, behind the asyncmcp gateway.');
    expect(sqs).toMatch(/^ {2}Backend: {7}sqs: /m);
    expect(demoBanner(url, 'sqs')).toBe(sqs);

    const snsSqs = demoBanner(url, 'sns-sqs');
    expect(snsSqs).toContain(
      'asyncmcp demo: an MCP server on a local SNS topic fanned out to SQS, behind the asyncmcp gateway.',
    );
    expect(snsSqs).toMatch(/^ {2}Backend: {7}sns-sqs: /m);
    expect(snsSqs).toContain(`MCP endpoint:  ${url}`);
  });
});
