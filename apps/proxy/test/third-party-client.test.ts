import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNode22 } from '@asyncmcp-examples/everything-server';
import { cleanupsAfterEach } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, startDemoCli, within } from './cli-process.js';
import { textOf } from './test-server.js';

// Real third-party MCP clients, each run as its own process. mcp-remote bridges a stdio client to the
// gateway's Streamable HTTP endpoint, as desktop clients that only launch local servers use it.
const mcpRemote = createRequire(import.meta.url).resolve('mcp-remote/dist/proxy.js');
// The MCP Inspector's command-line mode, which needs Node.js 22: run with the Node 22 binary the
// conformance runner installs.
const inspectorCli = createRequire(import.meta.url).resolve(
  '@modelcontextprotocol/inspector/cli/build/cli.js',
);

/** Runs a command to its end and collects its output; bounded by `within`, killed if it overruns. */
async function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(command, args, { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  try {
    return { code: await within(exited, `${args.join(' ')} to finish`, 60_000), stdout };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

describe('third-party clients (the MCP Inspector CLI, mcp-remote) through the gateway CLI', () => {
  afterEach(() => killAll());
  // Made after the hook above, so they run before it (after-hooks run newest first).
  const cleanups = cleanupsAfterEach();

  it('the MCP Inspector CLI lists the demo tools through the gateway', async () => {
    const node22 = await ensureNode22();
    const { url } = await startDemoCli();
    const { code, stdout } = await run(node22, [
      inspectorCli,
      '--cli',
      url,
      '--transport',
      'http',
      '--method',
      'tools/list',
    ]);
    expect(code).toBe(0);
    const listed = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { tools: Array<{ name: string }> };
    expect(listed.tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['echo', 'add', 'forecast', 'countdown', 'slow_task']),
    );
  }, 300_000);

  it('lists and calls tools of the demo server over SQS', async () => {
    const { url } = await startDemoCli();

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
