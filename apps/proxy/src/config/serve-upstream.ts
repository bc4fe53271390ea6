import { type BackendName, isWebhookBackend } from './backend-names.js';
import { GatewayConfigError } from './errors.js';
import type { SERVE_SETTINGS_TABLE } from './serve-settings.js';
import type { ChildVariable } from './serve-values.js';
import type { SettingsReader } from './settings-reader.js';
import { describeSource, type FileValues, type Raw, type Source, strength } from './sources.js';
import { invalidValue } from './value-types.js';

/** The MCP server `serve` puts on the transport: a command it runs once per session, or an HTTP server. */
export type ServeUpstream =
  | { kind: 'command'; command: string; args: string[] }
  | { kind: 'url'; url: string; headers: Record<string, string> };

/**
 * The environment of `serve`'s child processes: a minimal one (the MCP SDK's default for stdio servers)
 * plus the variables named with `--env`, or serve's whole environment with `--pass-environment`.
 */
export interface ChildEnvironment {
  /** Serve's whole environment, secrets included; opt-in. */
  passEnvironment: boolean;
  /** `--env NAME=value` (value given) and `--env NAME` (serve's own value), in order. */
  variables: ChildVariable[];
}

type ServeReader = SettingsReader<typeof SERVE_SETTINGS_TABLE>;

interface CommandChoice {
  command: string;
  args: string[];
  source: Source;
}

/**
 * The server to serve: a command (after `--`, or `command`/`args` in the file) or an upstream URL,
 * exactly one from the strongest place that names either; both from the same place is an error.
 */
export function resolveUpstream(
  backend: BackendName,
  commandWords: readonly string[] | undefined,
  file: FileValues | undefined,
  read: ServeReader,
): ServeUpstream {
  const command = commandFromFlags(commandWords) ?? (file && commandFromFile(file));
  const urlRaw = read.raw('upstreamUrl');
  const headersRaw = read.raw('upstreamHeaders');

  if (command !== undefined && urlRaw !== undefined) {
    if (strength(command.source) === strength(urlRaw.source)) {
      const where =
        command.source.kind === 'file' ? `config file "${command.source.path}"` : 'the command line';
      throw new GatewayConfigError(
        'conflicting-upstream',
        `serve takes one MCP server, but ${where} names both a command and an upstream URL: keep the command or the upstream URL`,
      );
    }
  }
  const useCommand =
    command !== undefined && (urlRaw === undefined || strength(command.source) > strength(urlRaw.source));
  if (useCommand) {
    if (headersRaw !== undefined) {
      throw new GatewayConfigError(
        'invalid-value',
        `upstream headers (from ${describeSource(headersRaw.source)}) apply only to an upstream URL, but the server to serve is the command "${command.command}"; remove them, or serve --upstream-url instead`,
      );
    }
    return { kind: 'command', command: command.command, args: command.args };
  }
  if (urlRaw === undefined) {
    const example = isWebhookBackend(backend)
      ? `asyncmcp-proxy serve --backend ${backend} --port … -- node server.js`
      : 'asyncmcp-proxy serve --request-queue-url … -- node server.js';
    throw new GatewayConfigError(
      'missing-upstream',
      `serve needs the MCP server to serve: put its command after -- (${example}), or pass --upstream-url, set ASYNCMCP_UPSTREAM_URL, or add command or upstreamUrl to the config file`,
    );
  }
  return {
    kind: 'url',
    url: read.given('upstreamUrl')!,
    headers: read.given('upstreamHeaders') ?? {},
  };
}

/** `--env` and `--pass-environment`: they shape a command's children, so an upstream URL refuses them. */
export function resolveChildEnvironment(upstream: ServeUpstream, read: ServeReader): ChildEnvironment {
  const variablesRaw = read.raw('env');
  const passRaw = read.raw('passEnvironment');
  if (upstream.kind === 'url') {
    const given = variablesRaw ?? passRaw;
    if (given !== undefined) {
      throw new GatewayConfigError(
        'invalid-value',
        `${given === variablesRaw ? '--env' : '--pass-environment'} (from ${describeSource(given.source)}) applies only to a command serve runs, but the server to serve is the upstream URL ${upstream.url}; remove it`,
      );
    }
  }
  return {
    passEnvironment: read.value('passEnvironment', 'sqs'),
    variables: read.given('env') ?? [],
  };
}

function commandFromFlags(words: readonly string[] | undefined): CommandChoice | undefined {
  if (words === undefined || words.length === 0) return undefined;
  const [command, ...args] = words;
  const source: Source = { kind: 'flag', flag: 'the command after --' };
  if (command === undefined || command.trim() === '') {
    throw new GatewayConfigError(
      'invalid-value',
      'invalid command "" from the command after --: expected a program such as node or npx',
    );
  }
  return { command, args, source };
}

/** `command: node` or `command: [node, server.js]`, with optional `args: [...]` appended. */
function commandFromFile(file: FileValues): CommandChoice | undefined {
  const { command, args } = file.values;
  const source = (key: string): Source => ({ kind: 'file', key, path: file.path });
  const hasArgs = args !== undefined && args !== null;
  if (command === undefined || command === null) {
    if (hasArgs) {
      throw new GatewayConfigError(
        'invalid-value',
        `key args in config file "${file.path}" needs a command key too: add command: <program>`,
      );
    }
    return undefined;
  }
  const expected = 'a program such as node, or a list such as [node, server.js]';
  const words = Array.isArray(command) ? command : [command];
  const commandWords = words.map((word) =>
    commandWord(word, { value: command, source: source('command') }, expected),
  );
  const argWords = hasArgs
    ? (Array.isArray(args) ? args : [args]).map((word) =>
        commandWord(
          word,
          { value: args, source: source('args') },
          'a list of arguments such as [server.js, --verbose]',
        ),
      )
    : [];
  const [program, ...rest] = commandWords;
  if (program === undefined || program.trim() === '') {
    throw invalidValue('command', command, describeSource(source('command')), expected);
  }
  return { command: program, args: [...rest, ...argWords], source: source('command') };
}

function commandWord(word: unknown, raw: Raw, expected: string): string {
  if (typeof word === 'string') return word;
  if ((typeof word === 'number' && Number.isFinite(word)) || typeof word === 'boolean') return String(word);
  const what = raw.source.kind === 'file' ? raw.source.key : 'command';
  throw invalidValue(what, raw.value, describeSource(raw.source), expected);
}
