/**
 * Where a setting's value comes from. Precedence: flags > env > file > defaults; the source of each value
 * is kept, so a refusal names the flag, variable or file key to change.
 */

/** One flag's value as the command-line parser gives it: a string, a list when repeatable, `true` for a switch. */
export type FlagValue = string | readonly string[] | boolean;

export type Environment = Readonly<Record<string, string | undefined>>;

/** Where a raw value came from, as error messages name it. */
export type Source =
  | { kind: 'flag'; flag: string }
  | { kind: 'env'; name: string }
  | { kind: 'file'; key: string; path: string };

/** A value as given, before parsing, with where it came from. */
export interface Raw {
  value: unknown;
  source: Source;
}

/** A config file's settings by key, with the file's path for messages. */
export interface FileValues {
  path: string;
  values: Readonly<Record<string, unknown>>;
}

/** What a setting is read from: its flag, its environment variables (strongest first) and its file key. */
export interface SettingSources {
  readonly key: string;
  readonly flag: string;
  readonly env: readonly string[];
}

export function describeSource(source: Source): string {
  if (source.kind === 'flag') return source.flag;
  if (source.kind === 'env') return `environment variable ${source.name}`;
  return `key ${source.key} in config file "${source.path}"`;
}

/** ` (from <source>)` for a value that did not come from a flag (a flag is named in the message already). */
export function fromUnlessFlag(raw: Raw | undefined): string {
  return raw === undefined || raw.source.kind === 'flag' ? '' : ` (from ${describeSource(raw.source)})`;
}

/** How strong a source is: a flag beats the environment, which beats the file. */
export function strength(source: Source): number {
  return source.kind === 'flag' ? 2 : source.kind === 'env' ? 1 : 0;
}

/**
 * An environment variable of another tool (AWS_REGION, AWS_ENDPOINT_URL, PORT): set for others as often
 * as for us, so it is ignored by a backend it does not apply to, where ours would be refused.
 */
export function isSharedEnvironment(source: Source): boolean {
  return source.kind === 'env' && !source.name.startsWith('ASYNCMCP_');
}

/**
 * Reads one setting where it is strongest: a flag, then its environment variables in order, then the
 * file. Empty flags, empty lists and empty environment variables count as unset; empty items of a
 * repeated flag are dropped.
 */
export function pickRaw(
  setting: SettingSources,
  flags: Readonly<Record<string, FlagValue | undefined>>,
  env: Environment,
  file: FileValues | undefined,
): Raw | undefined {
  const flagValue = flags[setting.key];
  if (isGiven(flagValue)) {
    const value = Array.isArray(flagValue)
      ? flagValue.filter((item: unknown) => typeof item === 'string' && item.trim() !== '')
      : flagValue;
    return { value, source: { kind: 'flag', flag: setting.flag } };
  }
  for (const name of setting.env) {
    const value = env[name];
    if (value !== undefined && value !== '') return { value, source: { kind: 'env', name } };
  }
  const fileValue = file?.values[setting.key];
  if (file && fileValue !== undefined && fileValue !== null) {
    return { value: fileValue, source: { kind: 'file', key: setting.key, path: file.path } };
  }
  return undefined;
}

function isGiven(value: FlagValue | undefined): value is FlagValue {
  return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== '';
}
