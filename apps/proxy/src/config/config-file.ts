import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { GatewayConfigError } from './errors.js';
import type { Environment } from './sources.js';

/** The `--config` setting: not a file key itself (a config file does not name another). */
export const CONFIG_SETTING = {
  flag: '--config',
  value: '<file>',
  env: ['ASYNCMCP_CONFIG'],
  description: 'JSON or YAML file of settings, keys named like the flags (requestQueueUrl, corsOrigins …)',
  defaultText: 'none',
} as const;

/** `serve`'s `--config`: the same variable, with serve's keys. */
export const SERVE_CONFIG_SETTING = {
  ...CONFIG_SETTING,
  description:
    'JSON or YAML file of settings, keys named like the flags (requestQueueUrl, upstreamHeaders …) plus command and args',
} as const;

/** The config file to read, if any: `--config` wins over ASYNCMCP_CONFIG. */
export function configFilePath(flags: { config?: unknown }, env: Environment): string | undefined {
  const fromFlag = flags.config;
  if (typeof fromFlag === 'string' && fromFlag !== '') return fromFlag;
  const fromEnv = env[CONFIG_SETTING.env[0]];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/** Reads a config file, turning any failure into a one-line configuration error. */
export function readConfigFile(path: string, read: (path: string) => string = readText): string {
  try {
    return read(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : firstLine(error instanceof Error ? error.message : String(error));
    throw new GatewayConfigError(
      'config-file-unreadable',
      `cannot read config file "${path}": ${why}; check the path given to --config or ASYNCMCP_CONFIG`,
      { cause: error },
    );
  }
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Parses the file into setting values by key, refusing syntax errors, non-mappings and unknown keys. */
export function parseConfigFile(
  path: string,
  contents: string,
  knownKeys: readonly string[],
): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(contents);
  } catch (error) {
    const detail = firstLine(error instanceof Error ? error.message : String(error)).replace(/:$/, '');
    throw new GatewayConfigError(
      'config-file-invalid',
      `invalid config file "${path}": ${detail}; it must be JSON or YAML`,
      { cause: error },
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewayConfigError(
      'config-file-invalid',
      `invalid config file "${path}": expected a mapping of settings such as "requestQueueUrl: https://…", got ${Array.isArray(parsed) ? 'a list' : `a ${typeof parsed}`}`,
    );
  }
  const values = parsed as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    // The schema comment an editor reads is no setting, but JSON has no comments: allow the key.
    if (knownKeys.includes(key) || key === '$schema') continue;
    const suggestion = suggestKey(key, knownKeys);
    throw new GatewayConfigError(
      'unknown-config-key',
      `unknown key "${key}" in config file "${path}"${suggestion ? ` (did you mean ${suggestion}?)` : ''}; known keys: ${knownKeys.join(', ')}`,
    );
  }
  return values;
}

/** A known key that `key` was probably meant to be: other spelling, case, separators or a missing plural. */
function suggestKey(key: string, knownKeys: readonly string[]): string | undefined {
  const normalize = (name: string) => name.toLowerCase().replace(/[-_\s]/g, '');
  const wanted = normalize(key);
  return knownKeys.find((known) => {
    const candidate = normalize(known);
    return candidate === wanted || candidate === `${wanted}s` || editDistance(candidate, wanted) <= 2;
  });
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

export function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? '';
}
