import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, cleanEnv, killAll, within } from './cli-process.js';
import { textOf } from './test-server.js';

// A real third-party MCP client, run as its own process: mcp-remote bridges a stdio client to the
// gateway's Streamable HTTP endpoint, as desktop clients that only launch local servers use it.
const mcpRemote = createRequire(import.meta.url).resolve('mcp-remote/dist/proxy.js');

describe('a third-party client (mcp-remote) through the gateway CLI', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanups.length > 0)
      await cleanups
        .pop()?.()
        .catch(() => undefined);
    await killAll();
  });

  it('lists and calls tools of the demo server over SQS', async () => {
    const cli = new CliProcess(['demo', '--port', '0'], cleanEnv());
    const line = await cli.waitForLine(
      'stdout',
      (candidate) => candidate.includes('MCP endpoint:'),
      'the URL',
    );
    const url = /MCP endpoint:\s+(\S+)/.exec(line)?.[1] as string;

    // mcp-remote keeps OAuth state in a config directory; give it a throwaway one.
    const configDir = await mkdtemp(join(tmpdir(), 'mcp-remote-'));
    cleanups.push(() => rm(configDir, { recursive: true, force: true }));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [mcpRemote, url, '--transport', 'http-only'],
      env: { ...cleanEnv(), MCP_REMOTE_CONFIG_DIR: configDir },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'via-mcp-remote', version: '1.0.0' });
    cleanups.push(() => client.close());
    await within(client.connect(transport), 'connecting through mcp-remote');

    const { tools } = await within(client.listTools(), 'tools/list through mcp-remote');
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['echo', 'add', 'countdown']));
    const sum = await within(
      client.callTool({ name: 'add', arguments: { a: 20, b: 22 } }),
      'add through mcp-remote',
    );
    expect(textOf(sum)).toContain('42');
  });
});
