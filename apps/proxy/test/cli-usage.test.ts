import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import packageJson from '../package.json' with { type: 'json' };
import { CONFIG_SETTING, SERVE_CONFIG_SETTING, SERVE_SETTINGS, SETTINGS } from '../src/config/index.js';
import { cleanEnv, parseLog, runCli, within } from './cli-process.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:mcp-requests';
/** A queue behind a private endpoint: its URL names no region. */
const REGIONLESS_QUEUE = 'https://sqs-vpce.internal.example/123456789012/mcp-requests';

/** Runs the CLI expecting a configuration refusal: exit 2, one line on stderr, no text but logs on stdout. */
async function refused(args: string[], env = cleanEnv()): Promise<string> {
  const result = await runCli(args, env);
  expect(result.code, result.stderr.join('\n')).toBe(2);
  expect(result.stderr).toHaveLength(1);
  // A refusal found after logging started (no region) may follow a JSON log line or two.
  expect(result.stdout.filter((line) => parseLog(line) === undefined)).toEqual([]);
  return result.stderr[0]!;
}

/** Like `refused`, for a refusal found before logging starts: nothing at all on stdout. */
async function refusedBeforeLogging(args: string[]): Promise<string> {
  const result = await runCli(args);
  expect(result.stdout).toEqual([]);
  expect(result.code, result.stderr.join('\n')).toBe(2);
  expect(result.stderr).toHaveLength(1);
  return result.stderr[0]!;
}

describe('asyncmcp-proxy usage', () => {
  it('documents every flag with its environment variables and default in --help', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    // Commander wraps long lines; compare with the wrapping undone.
    const help = result.stdout.map((line) => line.trim()).join(' ');
    for (const setting of [...SETTINGS, CONFIG_SETTING]) {
      expect(help).toContain(setting.flag);
      for (const name of setting.env) expect(help).toContain(name);
      if ('defaultText' in setting) expect(help).toContain(`default: ${setting.defaultText}`);
    }
    expect(help).toContain('demo');
    expect(help).toContain('serve');
    expect(help).toContain(
      'sqs, sns-sqs (also sns_sqs), webhook (MCP over webhooks) or hybrid (Streamable HTTP with webhook answers)',
    );
    expect(help).toContain('--webhook-base-url');
  });

  it('documents demo --backend in demo --help', async () => {
    const result = await runCli(['demo', '--help']);
    expect(result.code).toBe(0);
    const help = result.stdout.map((line) => line.trim()).join(' ');
    expect(help).toContain('--backend <name>');
    expect(help).toContain('sqs, sns-sqs (also sns_sqs), webhook or hybrid');
  });

  it('documents every serve flag with its environment variables and default in serve --help', async () => {
    const result = await runCli(['serve', '--help']);
    expect(result.code).toBe(0);
    const help = result.stdout.map((line) => line.trim()).join(' ');
    expect(help).toContain(
      'Usage: asyncmcp-proxy serve [options] (-- <command> [args...] | --upstream-url <url>)',
    );
    for (const setting of [...SERVE_SETTINGS, SERVE_CONFIG_SETTING]) {
      expect(help).toContain(setting.flag);
      for (const name of setting.env) expect(help).toContain(name);
      if ('defaultText' in setting) expect(help).toContain(`default: ${setting.defaultText}`);
    }
    // Gateway-only flags are not serve's.
    expect(help).not.toContain('--auth-token');
    expect(help).not.toContain('--server-url');
  });

  it('loads the demo emulator only for the demo', async () => {
    const forbid = fileURLToPath(new URL('./fixtures/forbid-emulator.mjs', import.meta.url));
    const env = cleanEnv({ NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import "${forbid}"`.trim() });
    // The gateway starts up to its configuration (refused here: no region), with the emulator forbidden.
    expect(await refused(['--request-queue-url', REGIONLESS_QUEUE], env)).toMatch(
      /no AWS region is configured/,
    );
    // The same guard does stop the demo, which needs it: the guard works.
    const demo = await runCli(['demo', '--port', '0'], env);
    expect(demo.code).not.toBe(0);
    expect(demo.stderr.join('\n')).toContain('the demo emulator was imported outside the demo');
  });

  it('prints its version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toEqual([packageJson.version]);
  });

  it('refuses an unknown flag with exit 2 and one line', async () => {
    expect(await refused(['--prot', '8080'])).toBe(
      "asyncmcp-proxy: unknown option '--prot' (Did you mean --port?); see asyncmcp-proxy --help",
    );
  });

  it('refuses an unknown command', async () => {
    expect(await refused(['server'])).toBe(
      'asyncmcp-proxy: unknown command "server" (commands: serve, demo); see asyncmcp-proxy --help',
    );
  });

  it('refuses serve without a server to serve, or with two', async () => {
    expect(await refused(['serve', '--request-queue-url', QUEUE])).toBe(
      'asyncmcp-proxy: serve needs the MCP server to serve: put its command after -- (asyncmcp-proxy serve --request-queue-url … -- node server.js), or pass --upstream-url, set ASYNCMCP_UPSTREAM_URL, or add command or upstreamUrl to the config file',
    );
    expect(
      await refused([
        'serve',
        '--request-queue-url',
        QUEUE,
        '--upstream-url',
        'http://127.0.0.1:3000/mcp',
        '--',
        'node',
      ]),
    ).toBe(
      'asyncmcp-proxy: serve takes one MCP server, but the command line names both a command and an upstream URL: keep the command or the upstream URL',
    );
  });

  it('refuses serve with webhook or hybrid settings missing or misplaced, or a command that cannot run', async () => {
    expect(await refused(['serve', '--backend', 'hybrid', '--port', '0', '--', 'node'])).toBe(
      'asyncmcp-proxy: serve with the hybrid backend needs the tools whose answers go to the webhook: pass --webhook-tool <name> (repeatable), set ASYNCMCP_WEBHOOK_TOOL, or add webhookTools to the config file',
    );
    expect(
      await refused(
        ['serve', '--request-queue-url', QUEUE],
        cleanEnv({ BACKEND_TRANSPORT: 'webhook', ASYNCMCP_UPSTREAM_URL: 'http://127.0.0.1:3000/mcp' }),
      ),
    ).toBe(
      'asyncmcp-proxy: --request-queue-url belongs to the sqs and sns-sqs backends, not webhook: remove it, or choose --backend sqs; the webhook backend takes --port instead',
    );
    expect(await refused(['serve', '--backend', 'webhook', '--', 'node'])).toBe(
      'asyncmcp-proxy: serve with the webhook backend needs the port to serve on: pass --port (0 picks a free one), set ASYNCMCP_PORT, or add port to the config file',
    );
    expect(
      await refused(['serve', '--backend', 'webhook', '--port', '0', '--', 'no-such-mcp-server-w']),
    ).toBe(
      'asyncmcp-proxy: cannot run "no-such-mcp-server-w": not found on PATH; check the command after -- (or command in the config file)',
    );
    expect(
      await refused([
        'serve',
        '--request-queue-url',
        QUEUE,
        '--region',
        'us-east-1',
        '--',
        'no-such-mcp-server-x',
      ]),
    ).toBe(
      'asyncmcp-proxy: cannot run "no-such-mcp-server-x": not found on PATH; check the command after -- (or command in the config file)',
    );
    expect(await refused(['serve', '--request-queue-url', REGIONLESS_QUEUE, '--', 'node', 'server.js'])).toBe(
      'asyncmcp-proxy: no AWS region is configured and the queue URL or topic ARN names none: pass --region, set AWS_REGION, or add region to the config file',
    );
  });

  it('refuses an unknown serve flag before the command, and passes flags after it to the command', async () => {
    expect(await refused(['serve', '--prot', '1', '--', 'node'])).toBe(
      "asyncmcp-proxy: unknown option '--prot' (Did you mean --port?); see asyncmcp-proxy --help",
    );
    // Without --, words after the command are the command's even when they look like serve's flags:
    // taken as serve's, --upstream-url would conflict with the command; passed through, the command is
    // what gets checked.
    expect(
      await refused([
        'serve',
        '--request-queue-url',
        QUEUE,
        'no-such-mcp-server-y',
        '--upstream-url',
        'http://127.0.0.1:3000/mcp',
      ]),
    ).toBe(
      'asyncmcp-proxy: cannot run "no-such-mcp-server-y": not found on PATH; check the command after -- (or command in the config file)',
    );
  });

  it('refuses a missing request queue URL, before logging anything', async () => {
    expect(await refusedBeforeLogging([])).toBe(
      'asyncmcp-proxy: the sqs backend needs a request queue URL: pass --request-queue-url, set ASYNCMCP_REQUEST_QUEUE_URL, or add requestQueueUrl to the config file',
    );
  });

  it('refuses a bad port from a flag or the legacy PORT variable', async () => {
    expect(await refused(['--request-queue-url', QUEUE, '--port', 'http'])).toBe(
      'asyncmcp-proxy: invalid port "http" from --port: expected a whole number from 0 to 65535 (0 picks a free port)',
    );
    expect(await refused(['--request-queue-url', QUEUE], cleanEnv({ PORT: '99999' }))).toBe(
      'asyncmcp-proxy: invalid port "99999" from environment variable PORT: expected a whole number from 0 to 65535 (0 picks a free port)',
    );
  });

  it('refuses a response queue lease shorter than a minute', async () => {
    expect(await refused(['--request-queue-url', QUEUE, '--response-queue-lease', '10'])).toBe(
      'asyncmcp-proxy: invalid response queue lease "10" from --response-queue-lease: expected a whole number of seconds from 60 to 604800 (a week)',
    );
  });

  it('refuses an unknown backend', async () => {
    expect(await refused(['--backend', 'kafka'])).toBe(
      'asyncmcp-proxy: unknown backend "kafka" from --backend: expected one of sqs, sns-sqs, webhook, hybrid',
    );
  });

  it('refuses webhook and hybrid without a server URL, or on a non-loopback host without a base URL, before logging anything', async () => {
    expect(await refusedBeforeLogging(['--backend', 'hybrid'])).toBe(
      "asyncmcp-proxy: the hybrid backend needs the server's endpoint, such as http://mcp.internal:8000/mcp: pass --server-url, set ASYNCMCP_SERVER_URL, or add serverUrl to the config file",
    );
    expect(
      await refused(
        ['--server-url', 'http://127.0.0.1:8000/mcp/request', '--host', '0.0.0.0'],
        cleanEnv({ BACKEND_TRANSPORT: 'webhook' }),
      ),
    ).toBe(
      'asyncmcp-proxy: the webhook backend needs the URL at which the server reaches this gateway, since --host 0.0.0.0 is not loopback: pass --webhook-base-url (such as http://gateway-1.internal:8080), set ASYNCMCP_WEBHOOK_BASE_URL, or add webhookBaseUrl to the config file',
    );
    expect(
      await refused([
        '--backend',
        'webhook',
        '--server-url',
        'http://127.0.0.1:8000/mcp/request',
        '--signing-secret',
        'whsec_c2hvcnQh',
      ]),
    ).toBe(
      'asyncmcp-proxy: the signing secret from --signing-secret is too short: use at least 16 bytes after base64 decoding (6 given), such as the output of openssl rand -base64 32',
    );
    expect(
      await refused(
        ['--backend', 'webhook', '--request-queue-url', QUEUE],
        cleanEnv({ AWS_REGION: 'us-east-1' }),
      ),
    ).toBe(
      'asyncmcp-proxy: --request-queue-url belongs to the sqs backend, not webhook: remove it, or choose --backend sqs; the webhook backend takes --server-url instead',
    );
  });

  it('refuses sns-sqs without a request topic, before logging anything', async () => {
    expect(await refusedBeforeLogging(['--backend', 'sns_sqs'])).toBe(
      'asyncmcp-proxy: the sns-sqs backend needs a request topic ARN: pass --request-topic-arn, set ASYNCMCP_REQUEST_TOPIC_ARN, or add requestTopicArn to the config file',
    );
    expect(await refused(['--backend', 'sns-sqs', '--request-topic-arn', 'mcp-requests'])).toBe(
      'asyncmcp-proxy: invalid request topic ARN "mcp-requests" from --request-topic-arn: expected an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:mcp-requests',
    );
  });

  it('refuses a setting of the other backend, saying which backend it belongs to', async () => {
    expect(
      await refused(['--backend', 'sns-sqs', '--request-topic-arn', TOPIC, '--request-queue-url', QUEUE]),
    ).toBe(
      'asyncmcp-proxy: --request-queue-url belongs to the sqs backend, not sns-sqs: remove it, or choose --backend sqs; the sns-sqs backend takes --request-topic-arn instead',
    );
    expect(
      await refused(['--request-queue-url', QUEUE], cleanEnv({ ASYNCMCP_RESPONSE_TOPIC_ARN: TOPIC })),
    ).toBe(
      'asyncmcp-proxy: --response-topic-arn (set by environment variable ASYNCMCP_RESPONSE_TOPIC_ARN) belongs to the sns-sqs backend, not sqs: remove it, or choose --backend sns-sqs',
    );
  });

  it('refuses serve over sns-sqs without the queue subscribed to the request topic', async () => {
    expect(await refused(['serve', '--backend', 'sns-sqs', '--', 'node'])).toBe(
      'asyncmcp-proxy: the sns-sqs backend needs a request queue URL (the SQS queue subscribed to the request topic): pass --request-queue-url, set ASYNCMCP_REQUEST_QUEUE_URL, or add requestQueueUrl to the config file',
    );
  });

  it('refuses an unreadable or invalid config file', async () => {
    expect(await refused(['--config', '/nonexistent/gateway.yaml'])).toBe(
      'asyncmcp-proxy: cannot read config file "/nonexistent/gateway.yaml": no such file; check the path given to --config or ASYNCMCP_CONFIG',
    );
    const path = join(mkdtempSync(join(tmpdir(), 'asyncmcp-proxy-usage-')), 'bad.yaml');
    writeFileSync(path, 'requestQueueUrl: [unclosed\n');
    expect(await refused([], cleanEnv({ ASYNCMCP_CONFIG: path }))).toMatch(
      /^asyncmcp-proxy: invalid config file ".+bad\.yaml": .+ at line \d+, column \d+; it must be JSON or YAML$/,
    );
  });

  it('points a --stdio with a server command at serve', async () => {
    expect(await refused(['--stdio', 'node server.js', '--request-queue-url', QUEUE])).toBe(
      'asyncmcp-proxy: --stdio takes no command ("node server.js"): it serves this gateway itself on stdin/stdout. To put a stdio MCP server on a queue, run it with serve: asyncmcp-proxy serve --request-queue-url <url> -- node server.js; see asyncmcp-proxy --help',
    );
  });

  it('prints its version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toEqual([packageJson.version]);
  });

  it('shows the three common setups in --help', async () => {
    const help = (await runCli(['--help'])).stdout.join('\n');
    expect(help).toContain('Common setups:');
    expect(help).toMatch(/1\. Any MCP client over HTTP[^\n]*\n\s+asyncmcp-proxy --request-queue-url /);
    expect(help).toMatch(/2\. A desktop client[^\n]*\n\s+asyncmcp-proxy --stdio --request-queue-url /);
    expect(help).toMatch(
      /3\. Your existing stdio MCP server[^\n]*\n\s+asyncmcp-proxy serve --request-queue-url \S+ -- node server\.js/,
    );
  });

  it('refuses to start with no AWS region anywhere', async () => {
    expect(await refused(['--request-queue-url', REGIONLESS_QUEUE])).toBe(
      'asyncmcp-proxy: no AWS region is configured and the queue URL or topic ARN names none: pass --region, set AWS_REGION, or add region to the config file',
    );
  });

  it('exits 1 with one line when the port is taken', async () => {
    const busy = createServer();
    await within(new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve)), 'a listening server');
    try {
      const { port } = busy.address() as AddressInfo;
      const result = await runCli([
        '--request-queue-url',
        QUEUE,
        '--region',
        'us-east-1',
        '--port',
        String(port),
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toEqual([
        `asyncmcp-proxy: cannot listen on 127.0.0.1:${port}: the port is in use; pass another --port (0 picks a free one)`,
      ]);
    } finally {
      busy.close();
    }
  });

  it('refuses a bad demo flag the same way', async () => {
    expect(await refused(['demo', '--port', '-3'])).toBe(
      'asyncmcp-proxy: invalid port "-3" from --port: expected a whole number from 0 to 65535 (0 picks a free port)',
    );
    expect(await refused(['demo', '--backend', 'kafka'])).toBe(
      'asyncmcp-proxy: unknown backend "kafka" from --backend: expected one of sqs, sns-sqs, webhook, hybrid',
    );
  });
});
