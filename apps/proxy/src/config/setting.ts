import type { BackendName } from './backend-names.js';
import type { GatewayConfigError } from './errors.js';
import type { Raw } from './sources.js';
import { parseValue, type ValueType } from './value-types.js';

/**
 * One setting, defined once: where it is read from (flag, environment variables, file key), how its value
 * is parsed (a zod value type), its default (read from the libraries' defaults), which backends take it,
 * and its help. The help text, the file keys, the config file's JSON Schema and the resolvers all come
 * from these definitions.
 */
export interface SettingDefinition<T = unknown> {
  readonly flag: `--${string}`;
  /** The value placeholder in help; absent for a boolean switch. */
  readonly value?: string;
  /** Environment variables, strongest first. */
  readonly env: readonly string[];
  readonly type: ValueType<T>;
  readonly description: string;
  /** The value when none is given. */
  readonly default?: NoInfer<T>;
  /** The value when none is given, where it differs by backend. */
  readonly defaultByBackend?: Partial<Record<BackendName, NoInfer<T>>>;
  /** Help's words around the default value, where the value alone says too little. */
  readonly describeDefault?: (value: string) => string;
  /** Help's words for what happens when the setting is not given and no value stands in. */
  readonly absent?: string;
  /**
   * The backends the setting belongs to; absent when it applies to every backend. Given with another
   * backend, it is a configuration error that names the backends it belongs to — except from an
   * environment variable of another tool (AWS_REGION, PORT …), which is ignored: it is there for others.
   */
  readonly backends?: readonly BackendName[];
  /**
   * Set in the environment, it is a deployment's setting for every command that reads it (the image sets
   * ASYNCMCP_HOST for the gateway and `serve` alike), so a backend it does not apply to ignores it
   * instead of refusing it. From a flag or the file it is still refused.
   */
  readonly sharedInEnvironment?: boolean;
  /** Required by every backend it belongs to: the refusal when it is missing. */
  readonly required?: (backend: BackendName) => GatewayConfigError;
  /** The README section that says more about the setting; the README's settings table links it. */
  readonly readmeSection?: string;
}

/** A table of settings by key (the config file's key), in help order. */
export type SettingTable = Readonly<Record<string, SettingDefinition>>;

/** Defines a setting, keeping its value type for the resolvers. */
export function setting<T>(definition: SettingDefinition<T>): SettingDefinition<T> {
  return definition;
}

export type ValueOf<D> = D extends SettingDefinition<infer T> ? T : never;

/** A setting as help, the README and the tests see it. */
interface CommonSettingSpec {
  /** The config-file key; also the key of the flag values. */
  readonly key: string;
  readonly flag: `--${string}`;
  readonly value?: string;
  readonly env: readonly string[];
  readonly list?: boolean;
  readonly description: string;
  /** The default as help shows it, written from the default value; absent when there is none. */
  readonly defaultText?: string;
  readonly sharedInEnvironment?: boolean;
}

interface BackendSettingSpec extends CommonSettingSpec {
  readonly backends: readonly BackendName[];
}

export type SettingSpec = CommonSettingSpec | BackendSettingSpec;

/** The help and README view of a table: each setting's sources, description and default text. */
export function describeSettings(table: SettingTable): SettingSpec[] {
  return Object.entries(table).map(([key, definition]) => {
    const spec: { -readonly [K in keyof BackendSettingSpec]?: BackendSettingSpec[K] } = {
      key,
      flag: definition.flag,
      env: definition.env,
      description: definition.description,
    };
    if (definition.value !== undefined) spec.value = definition.value;
    if (definition.type.repeatable) spec.list = true;
    const defaultText = defaultTextOf(definition);
    if (defaultText !== undefined) spec.defaultText = defaultText;
    if (definition.backends !== undefined) spec.backends = definition.backends;
    if (definition.sharedInEnvironment) spec.sharedInEnvironment = true;
    return spec as SettingSpec;
  });
}

/**
 * Help's default: the default value as text (by backend where it differs), in the words around it.
 * `formatValue` dresses each value (the README sets them as code).
 */
export function defaultTextOf(
  definition: SettingDefinition,
  formatValue: (value: string) => string = (value) => value,
): string | undefined {
  const describe = definition.describeDefault ?? ((value: string) => value);
  const format = (value: unknown) => formatDefault(value, formatValue);
  if (definition.defaultByBackend !== undefined) {
    const byBackend = Object.entries(definition.defaultByBackend).map(
      ([backend, value]) => `${format(value)} with ${backend}`,
    );
    return describe(byBackend.join(', '));
  }
  if (definition.default !== undefined) return describe(format(definition.default));
  return definition.absent;
}

function formatDefault(value: unknown, formatValue: (value: string) => string): string {
  if (Array.isArray(value))
    return value.length === 0 ? 'none' : value.map(String).map(formatValue).join(', ');
  return formatValue(String(value));
}

/** A setting's default for `backend`. */
export function defaultFor<T>(definition: SettingDefinition<T>, backend: BackendName): T | undefined {
  return definition.defaultByBackend?.[backend] ?? definition.default;
}

/** A given setting's value, parsed by its value type; undefined when not given. */
export function parseGiven<T>(definition: SettingDefinition<T>, raw: Raw | undefined): T | undefined {
  return raw === undefined ? undefined : parseValue(definition.type, raw);
}
