// Writes the config files' JSON Schemas (config.schema.json, serve-config.schema.json) from the settings
// definitions. Run it after changing a setting: `pnpm --filter asyncmcp-proxy schema`; a test fails
// while the committed files are stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_JSON_SCHEMAS, configJsonSchemaText } from '../src/config/schema.js';

for (const name of Object.keys(CONFIG_JSON_SCHEMAS) as Array<keyof typeof CONFIG_JSON_SCHEMAS>) {
  const path = fileURLToPath(new URL(`../${name}`, import.meta.url));
  writeFileSync(path, configJsonSchemaText(name));
  process.stdout.write(`wrote ${name}\n`);
}
