import { z } from 'zod';
import { BACKEND_NAMES, type BackendName } from './backend-names.js';
import { GATEWAY_SETTINGS } from './gateway-settings.js';
import { SERVE_FILE_ONLY_SCHEMAS, SERVE_SETTINGS_TABLE } from './serve-settings.js';
import { defaultFor, type SettingDefinition, type SettingTable } from './setting.js';

/**
 * The one place that maps a backend to its settings: a zod object per backend, of the settings that
 * belong to it (each with its value type, description and default), joined by
 * `z.discriminatedUnion('backend', …)`. The config file's keys and its JSON Schema come from here.
 */

/**
 * Each setting's default, kept beside its schema for the JSON Schema: zod leaves `default` out of a
 * coercing (preprocessed) schema's input side, which is what a file holds.
 */
const FILE_DEFAULTS = z.registry<{ fileDefault: unknown }, z.core.$ZodType>();

/** Whether `definition` belongs to `backend`. */
export function belongsTo(definition: SettingDefinition, backend: BackendName): boolean {
  return definition.backends === undefined || definition.backends.includes(backend);
}

/** How the file names the backend: the default (sqs) may be left out; sns_sqs is another spelling. */
function backendKey(table: SettingTable, backend: BackendName): z.ZodType {
  const spellings = backend === 'sns-sqs' ? (['sns-sqs', 'sns_sqs'] as const) : ([backend] as const);
  const key = z.enum(spellings).describe(table.backend?.description ?? '');
  return backend === GATEWAY_SETTINGS.backend.default ? key.optional() : key;
}

/** One backend's settings as a config file holds them. */
export function backendFileSchema(
  table: SettingTable,
  backend: BackendName,
  fileOnly: Readonly<Record<string, z.ZodType>> = {},
): z.ZodObject {
  const shape: Record<string, z.ZodType> = {
    // JSON has no comments: a "$schema" key is how a JSON file names its schema for an editor.
    $schema: z.string().optional().describe('the JSON Schema of this file, for editors'),
    backend: backendKey(table, backend),
  };
  for (const [key, definition] of Object.entries(table)) {
    if (key === 'backend' || !belongsTo(definition, backend)) continue;
    const fallback = defaultFor(definition, backend);
    const value = (definition.type.fileSchema ?? definition.type.schema).describe(definition.description);
    if (fallback !== undefined) value.register(FILE_DEFAULTS, { fileDefault: fallback });
    // Optional even when required: a flag or an environment variable may give it instead.
    shape[key] = value.optional();
  }
  return z.strictObject({ ...shape, ...fileOnly });
}

function fileSchemaOf(table: SettingTable, fileOnly?: Readonly<Record<string, z.ZodType>>) {
  const [first, ...rest] = BACKEND_NAMES.map((backend) => backendFileSchema(table, backend, fileOnly));
  return z.discriminatedUnion('backend', [first!, ...rest]);
}

/** The gateway's config file: one object per backend, told apart by `backend`. */
export const GATEWAY_FILE_SCHEMA = fileSchemaOf(GATEWAY_SETTINGS);

/** serve's config file: its settings, and the command to run. */
export const SERVE_FILE_SCHEMA = fileSchemaOf(SERVE_SETTINGS_TABLE, SERVE_FILE_ONLY_SCHEMAS);

/** Every key a config file may hold, for any backend, in help order. */
export function fileKeys(table: SettingTable, fileOnly: readonly string[] = []): string[] {
  return [...Object.keys(table), ...fileOnly];
}

const SCHEMA_BASE = 'https://raw.githubusercontent.com/asyncmcp/asyncmcp-ts/main/apps/proxy';

/** The published JSON Schema files, by name, with what each describes. */
export const CONFIG_JSON_SCHEMAS = {
  'config.schema.json': {
    title: 'asyncmcp-proxy config file (--config)',
    schema: GATEWAY_FILE_SCHEMA,
  },
  'serve-config.schema.json': {
    title: 'asyncmcp-proxy serve config file (serve --config)',
    schema: SERVE_FILE_SCHEMA,
  },
} as const;

/**
 * A config file's JSON Schema, for editors (YAML language server, VS Code): settings under the keys the
 * flags are named after, each with its description and default, one object per backend.
 */
export function configJsonSchema(name: keyof typeof CONFIG_JSON_SCHEMAS): Record<string, unknown> {
  const { title, schema } = CONFIG_JSON_SCHEMAS[name];
  const { $schema, ...body } = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-7',
    override: ({ zodSchema, jsonSchema }) => {
      const entry = FILE_DEFAULTS.get(zodSchema);
      if (entry !== undefined) jsonSchema.default = entry.fileDefault;
    },
  });
  return {
    $schema,
    $id: `${SCHEMA_BASE}/${name}`,
    title,
    description: 'Flags and environment variables override these settings; see asyncmcp-proxy --help.',
    ...body,
  };
}

/** A published JSON Schema file's text, as `scripts/write-config-schemas.ts` writes it. */
export function configJsonSchemaText(name: keyof typeof CONFIG_JSON_SCHEMAS): string {
  return `${JSON.stringify(configJsonSchema(name), null, 2)}\n`;
}
