import type { BackendName } from './backend-names.js';
import { GatewayConfigError } from './errors.js';
import { belongsTo } from './schema.js';
import { defaultFor, parseGiven, type SettingTable, type ValueOf } from './setting.js';
import {
  describeSource,
  type Environment,
  type FileValues,
  type FlagValue,
  isSharedEnvironment,
  pickRaw,
  type Raw,
} from './sources.js';

/** Reads a table's settings by precedence (flags > env > file), parsed by their value types. */
export interface SettingsReader<Table extends SettingTable> {
  /** The value as given, where it is strongest, with its source; undefined when not given. */
  raw(key: keyof Table & string): Raw | undefined;
  /** The value given, parsed; undefined when not given. */
  given<K extends keyof Table & string>(key: K): ValueOf<Table[K]> | undefined;
  /** The value given, parsed, or its default for `backend`. */
  value<K extends keyof Table & string>(key: K, backend: BackendName): ValueOf<Table[K]>;
  /** The value given, parsed; refused with the setting's own error when missing. */
  required<K extends keyof Table & string>(key: K, backend: BackendName): NonNullable<ValueOf<Table[K]>>;
}

export function readSettings<Table extends SettingTable>(
  table: Table,
  flags: Readonly<Record<string, FlagValue | undefined>>,
  env: Environment,
  file: FileValues | undefined,
): SettingsReader<Table> {
  const raw = (key: keyof Table & string) => pickRaw({ key, ...table[key]! }, flags, env, file);
  const given = <K extends keyof Table & string>(key: K) =>
    parseGiven(table[key]!, raw(key)) as ValueOf<Table[K]> | undefined;
  return {
    raw,
    given,
    value(key, backend) {
      // A setting of another backend keeps its default: the refusals say when it was given anyway.
      const mine = belongsTo(table[key]!, backend);
      const value = (mine ? given(key) : undefined) ?? defaultFor(table[key]!, backend);
      // A programming error, not a configuration one: the table names no default for it.
      if (value === undefined) throw new Error(`setting ${key} has no default for ${backend}`);
      return value as ValueOf<Table[typeof key]>;
    },
    required(key, backend) {
      const value = given(key);
      const definition = table[key]!;
      const empty = Array.isArray(value) && value.length === 0;
      if (value === undefined || empty) {
        throw definition.required?.(backend) ?? new Error(`setting ${key} has no refusal when missing`);
      }
      return value as NonNullable<ValueOf<Table[typeof key]>>;
    },
  };
}

/**
 * What the chosen backend takes in place of a setting of another backend, for the refusal to suggest:
 * setting key → backend → its flag.
 */
export type Counterparts = Readonly<Record<string, Partial<Record<BackendName, string>>>>;

/**
 * Refuses a setting given (anywhere) for another backend than the chosen one: it would be ignored, and
 * an ignored queue or topic is a misconfiguration that only shows much later.
 */
export function assertSettingsBelongTo<Table extends SettingTable>(
  backend: BackendName,
  table: Table,
  reader: SettingsReader<Table>,
  counterparts: Counterparts,
): void {
  for (const [key, definition] of Object.entries(table)) {
    const owners = definition.backends;
    if (owners === undefined || belongsTo(definition, backend)) continue;
    const raw = reader.raw(key);
    if (raw === undefined || isSharedEnvironment(raw.source)) continue;
    if (definition.sharedInEnvironment === true && raw.source.kind === 'env') continue;
    const where = raw.source.kind === 'flag' ? '' : ` (set by ${describeSource(raw.source)})`;
    const counterpart = counterparts[key]?.[backend];
    const instead = counterpart === undefined ? '' : `; the ${backend} backend takes ${counterpart} instead`;
    throw new GatewayConfigError(
      'setting-not-for-backend',
      `${definition.flag}${where} belongs to the ${owners.join(' and ')} backend${owners.length > 1 ? 's' : ''}, not ${backend}: remove it, or choose --backend ${owners[0]}${instead}`,
    );
  }
}
