import { AsyncMcpError, AsyncMcpErrorCode, describeError, type Logger } from '@asyncmcp/core';
import { createDefaultLogger } from '@asyncmcp/proxy';
import { Command, CommanderError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import {
  CONFIG_SETTING,
  configFilePath,
  type FlagValues,
  readConfigFile,
  resolveConfig,
  resolveDemoConfig,
  resolveServeConfig,
  SERVE_CONFIG_SETTING,
  SERVE_SETTINGS,
  SETTINGS,
  type ServeFlagValues,
  type SettingSpec,
} from './config/index.js';
import { startGateway } from './gateway.js';
import { ListenError } from './listen-error.js';
import { startServe } from './serve.js';

const NAME = 'asyncmcp-proxy';

/** Exit codes: 0 stopped cleanly, 1 failed while running, 2 bad configuration or usage. */
const EXIT_RUNTIME = 1;
const EXIT_CONFIG = 2;

function optionHelp(setting: Pick<SettingSpec, 'description' | 'env' | 'defaultText'>): string {
  const notes = [`env: ${setting.env.join(', ')}`];
  if (setting.defaultText !== undefined) notes.push(`default: ${setting.defaultText}`);
  return `${setting.description} (${notes.join('; ')})`;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Adds an option per setting (and --config) to `command`; returns commander's attribute name of each
 * flag (e.g. corsOrigin) → the setting key (corsOrigins).
 */
function addSettingOptions(
  command: Command,
  settings: readonly SettingSpec[],
  config: Pick<SettingSpec, 'description' | 'env' | 'defaultText'> & { flag: string; value: string },
): Map<string, string> {
  const attributeToKey = new Map<string, string>();
  for (const setting of settings) {
    const option = new Option(
      setting.value ? `${setting.flag} ${setting.value}` : setting.flag,
      optionHelp(setting),
    );
    if (setting.list) option.argParser(collect);
    command.addOption(option);
    attributeToKey.set(option.attributeName(), setting.key);
  }
  command.addOption(new Option(`${config.flag} ${config.value}`, optionHelp(config)));
  attributeToKey.set('config', 'config');
  return attributeToKey;
}

/** Commander's parsed options, by setting key. */
function flagValuesOf(
  options: Record<string, unknown>,
  attributeToKey: ReadonlyMap<string, string>,
): Record<string, string | readonly string[] | boolean> {
  const flags: Record<string, string | readonly string[] | boolean> = {};
  for (const [attribute, value] of Object.entries(options)) {
    const key = attributeToKey.get(attribute);
    if (
      key !== undefined &&
      (typeof value === 'string' ||
        typeof value === 'boolean' ||
        (Array.isArray(value) && value.every((item) => typeof item === 'string')))
    ) {
      flags[key] = value;
    }
  }
  return flags;
}

function buildProgram(): Command {
  const program = new Command(NAME)
    .description(
      'The asyncmcp gateway: a standard MCP Streamable HTTP endpoint (or stdio) in front of MCP servers on asynchronous transports.',
    )
    .version(packageJson.version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (message, write) =>
        write(
          `${NAME}: ${oneLine(message.replace(/^error:\s*/, '')).replace(/\.$/, '')}; see ${NAME} --help\n`,
        ),
    });

  const attributeToKey = addSettingOptions(program, SETTINGS, CONFIG_SETTING);

  program.addHelpText(
    'after',
    `
Settings come from flags, then environment variables, then the config file, then defaults.
List settings take comma-separated values in the environment (ASYNCMCP_CORS_ORIGIN=https://a.example,https://b.example).
The config file holds the same settings under camelCase keys named like the flags, e.g.
  backend: sqs
  requestQueueUrl: https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests
  corsOrigins: [https://app.example.com]
Backends: sqs takes --request-queue-url; sns-sqs takes --request-topic-arn (and --response-topic-arn);
both take --response-queue-url, --region and --endpoint-url. webhook and hybrid take --server-url,
--webhook-base-url and --webhook-path. A setting of another backend is refused. --signing-secret applies
to every backend: with sqs and sns-sqs every message is signed and unsigned answers are refused.
AWS credentials come from the AWS SDK's usual chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, instance roles …).
webhook, hybrid: the server POSTs to <webhook-base-url><webhook-path>/<session>. Without
--webhook-base-url that is the gateway's own listening address, which only a server on the same machine
reaches; it is required when --host is not loopback. The server's SSRF guard refuses loopback and
private webhook addresses unless it allows them (serve --allow-private-networks, or an allow-list).

Endpoints: <path> (MCP), /health, /ready, /metrics; with webhook or hybrid, <webhook-path>/<session>.
Exit codes: 0 stopped cleanly, 1 failed while running, 2 bad configuration or usage.

The region is taken from the queue URL or topic ARN when --region, AWS_REGION and AWS_DEFAULT_REGION are unset.

Common setups:
  1. Any MCP client over HTTP, to servers on an SQS queue:
     ${NAME} --request-queue-url https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests
  2. A desktop client that launches local servers (stdio), to the same servers:
     ${NAME} --stdio --request-queue-url https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests
  3. Your existing stdio MCP server, put on that queue as a worker (run as many as you like):
     ${NAME} serve --request-queue-url https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests -- node server.js
  Try all of it with no AWS account first: ${NAME} demo

More examples:
  ${NAME} --backend sns-sqs --request-topic-arn arn:aws:sns:us-east-1:123456789012:mcp-requests
  ${NAME} --backend webhook --server-url http://mcp.internal:8000/mcp/request \\
      --host 0.0.0.0 --webhook-base-url http://gateway-1.internal:8080 --auth-token "$TOKEN"
  ${NAME} --backend hybrid --server-url http://127.0.0.1:8000/mcp
  ${NAME} demo --backend sns-sqs      the demo over SNS+SQS (also webhook, hybrid)
  ${NAME} serve --help                every serve setting
`,
  );

  program.allowExcessArguments(true);
  program.action(async (options: Record<string, unknown>, command: Command) => {
    if (command.args.length > 0) {
      // `--stdio <command>` is how other stdio bridges run a server; here a server goes after `serve --`.
      if (options.stdio === true) {
        command.error(
          `--stdio takes no command ("${command.args.join(' ')}"): it serves this gateway itself on stdin/stdout. To put a stdio MCP server on a queue, run it with serve: ${NAME} serve --request-queue-url <url> -- ${command.args.join(' ')}`,
          { exitCode: EXIT_CONFIG },
        );
      }
      command.error(`unknown command "${command.args[0]}" (commands: serve, demo)`, {
        exitCode: EXIT_CONFIG,
      });
    }
    const flags: FlagValues = flagValuesOf(options, attributeToKey);
    await runGateway(flags);
  });

  const serve = program
    .command('serve')
    .description(
      'put an existing MCP server on an async transport (a queue, or an HTTP endpoint answering on webhooks), unchanged: a stdio command (one process per session) or a Streamable HTTP server (one upstream session per session)',
    )
    .usage('[options] (-- <command> [args...] | --upstream-url <url>)')
    .argument('[command...]', 'the stdio MCP server to run for each session, after --')
    // Everything after the command belongs to the command, even words that look like options.
    .passThroughOptions();
  const serveAttributeToKey = addSettingOptions(serve, SERVE_SETTINGS, SERVE_CONFIG_SETTING);
  serve.addHelpText(
    'after',
    `
Give the server to serve as a command after -- or as --upstream-url, not both.
With --backend sns-sqs, --request-queue-url is the queue subscribed to the request topic; answers are
published to the topic each client names.
With --backend webhook or hybrid, serve listens on --host/--port (the "serving" log line has its url)
and delivers to the webhook each client names. Webhooks on loopback and private addresses are refused
(SSRF guard) unless --allow-private-networks; --allowed-webhook-host narrows the hosts further.
Settings come from flags, then environment variables, then the config file, then defaults. The config
file holds the same settings under camelCase keys, plus command and args for the server to run:
  requestQueueUrl: https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests
  command: node
  args: [server.js]
The command runs with this environment and directory; its stderr is passed through. JSON logs go to
stdout; the line "serving" says it is ready. SIGINT or SIGTERM stops it: running requests get up to
10 s, then every session and child process ends; a second signal exits at once.
Exit codes: 0 stopped cleanly, 1 failed while running, 2 bad configuration or usage.

Examples:
  ${NAME} serve --request-queue-url https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests -- node server.js
  ${NAME} serve --backend sns-sqs --request-queue-url https://sqs.us-east-1.amazonaws.com/123456789012/mcp-topic-requests -- node server.js
  ${NAME} serve --request-queue-url https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests \\
      --upstream-url http://127.0.0.1:3000/mcp --upstream-header "Authorization: Bearer $TOKEN"
  ${NAME} serve --backend webhook --port 8000 --allow-private-networks -- node server.js
  ${NAME} serve --backend hybrid --port 8000 --webhook-tool generate_report -- node server.js
`,
  );
  serve.action(async (words: string[], options: Record<string, unknown>) => {
    const flags: ServeFlagValues = { ...flagValuesOf(options, serveAttributeToKey), command: words };
    await runServe(flags);
  });

  program
    .command('demo')
    .description(
      'run a complete example with no AWS account: an example async MCP server (on an SQS/SNS emulator, or on loopback HTTP with webhooks) and the gateway',
    )
    .option(
      '--backend <name>',
      'the transport between the gateway and the server: sqs, sns-sqs (also sns_sqs), webhook or hybrid (default: sqs)',
    )
    .option('--port <n>', 'HTTP port (0 picks a free one) (default: 8080)')
    .option('--host <host>', 'interface to bind (default: 127.0.0.1)')
    .option('--log-level <level>', 'level of the JSON logs on stderr (default: warn)')
    .allowExcessArguments(false)
    .action(async (options: DemoFlags) => {
      await runDemo(options);
    });

  return program;
}

async function runGateway(flags: FlagValues): Promise<void> {
  const env = process.env;
  const path = configFilePath(flags, env);
  const file = path === undefined ? undefined : { path, contents: readConfigFile(path) };
  const config = resolveConfig({ flags, env, file });
  const logger = createDefaultLogger({
    level: config.logLevel,
    destination: config.stdio ? 'stderr' : 'stdout',
  });
  routeWarningsTo(logger);
  const signals = handleSignals(logger);
  const gateway = await startGateway(config, { logger });
  signals.stopWith(() => gateway.close());
  // stdio only: the client closed stdin, and the gateway has closed behind it.
  void gateway.ended.then(() => {
    logger.info({}, 'stdio session ended');
    process.exit(0);
  });
}

async function runServe(flags: ServeFlagValues): Promise<void> {
  const env = process.env;
  const path = configFilePath(flags, env);
  const file = path === undefined ? undefined : { path, contents: readConfigFile(path) };
  const config = resolveServeConfig({ flags, env, file });
  const logger = createDefaultLogger({ level: config.logLevel, destination: 'stdout' });
  routeWarningsTo(logger);
  const signals = handleSignals(logger);
  const served = await startServe(config, { logger, env });
  signals.stopWith(() => served.close());
}

interface DemoFlags {
  backend?: string;
  port?: string;
  host?: string;
  logLevel?: string;
}

async function runDemo(flags: DemoFlags): Promise<void> {
  const config = resolveDemoConfig(flags);
  const backend = config.backend;
  // stdout is for the person reading the banner; logs go to stderr.
  const logger = createDefaultLogger({ level: config.logLevel, destination: 'stderr' });
  routeWarningsTo(logger);
  const signals = handleSignals(logger);
  // The emulator and the example server load only for the demo, not on every start of the gateway.
  const { demoBanner, startDemo } = await import('./demo.js');
  const demo = await startDemo({ host: config.host, port: config.port, logger, backend });
  signals.stopWith(() => {
    process.stdout.write('Stopping the demo…\n');
    return demo.close();
  });
  process.stdout.write(demoBanner(demo.url, demo.backend));
}

/**
 * The first SIGINT/SIGTERM closes gracefully and exits 0; a second one exits at once. Installed before
 * anything starts, so a signal right after the service announces itself is never the default (fatal)
 * one; before `stopWith` there is nothing to drain, and a signal exits at once.
 */
function handleSignals(logger: Logger): { stopWith(close: () => Promise<void>): void } {
  let close: (() => Promise<void>) | undefined;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping || close === undefined) {
      logger.warn({ signal }, stopping ? 'second signal: exiting at once' : 'stopped while starting');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down; send the signal again to exit at once');
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: describeError(error) }, 'shutdown failed');
        process.exit(EXIT_RUNTIME);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stopWith(stop) {
      close = stop;
    },
  };
}

/**
 * Process warnings (the AWS SDK's notice about future Node versions, say) become log lines, so stdout
 * and stderr carry nothing but JSON logs, the protocol and the one-line errors.
 */
function routeWarningsTo(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    logger.warn({ warning: warning.name, detail: oneLine(warning.message) }, 'runtime warning');
  });
}

function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}

function isConfigurationError(error: unknown): error is AsyncMcpError {
  return AsyncMcpError.isInstance(error) && error.code === AsyncMcpErrorCode.Configuration;
}

async function main(argv: readonly string[]): Promise<void> {
  // Warnings raised before a logger exists (during configuration) must not add lines to a one-line error.
  process.removeAllListeners('warning');
  process.on('warning', () => {});
  try {
    await buildProgram().parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed help, the version or its (one-line) usage error already.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_CONFIG;
    } else if (isConfigurationError(error)) {
      process.stderr.write(`${NAME}: ${oneLine(error.message)}\n`);
      process.exitCode = EXIT_CONFIG;
    } else {
      const message =
        error instanceof ListenError ? error.message : `could not start: ${describeError(error)}`;
      process.stderr.write(`${NAME}: ${oneLine(message)}\n`);
      process.exitCode = EXIT_RUNTIME;
    }
    // Clients or timers made before the failure must not keep the process alive.
    process.exit();
  }
}

await main(process.argv);
