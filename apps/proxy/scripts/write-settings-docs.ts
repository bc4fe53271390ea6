// Writes the settings tables of README.md (## Settings, ### serve settings) from the settings definitions.
// Run it after changing a setting: `pnpm --filter asyncmcp-proxy settings-docs`; a test fails while the
// README's tables are stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withSettingsTables } from '../src/config/settings-docs.js';

const path = fileURLToPath(new URL('../README.md', import.meta.url));
const before = readFileSync(path, 'utf8');
const after = withSettingsTables(before);
if (after !== before) writeFileSync(path, after);
process.stdout.write(
  after === before ? 'README.md settings tables are current\n' : 'wrote README.md settings tables\n',
);
