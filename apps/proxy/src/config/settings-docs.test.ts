import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_SETTING } from './config-file.js';
import { GATEWAY_SETTINGS, SETTINGS } from './gateway-settings.js';
import { SERVE_SETTINGS, SERVE_SETTINGS_TABLE } from './serve-settings.js';
import type { SettingSpec, SettingTable } from './setting.js';
import { type SettingsDocName, settingsMarkers, withSettingsTables } from './settings-docs.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function tableIn(text: string, name: SettingsDocName): string[] {
  const { start, end } = settingsMarkers(name);
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  expect(from, `${name} table's start marker`).toBeGreaterThan(-1);
  expect(to, `${name} table's end marker`).toBeGreaterThan(from);
  return text
    .slice(from + start.length, to)
    .split('\n')
    .filter((line) => line.startsWith('|'));
}

/** A row's cells, split at the pipes Markdown reads as cell borders (not at escaped ones). */
function cellsOf(row: string): string[] {
  return row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

const tables: Array<[SettingsDocName, readonly SettingSpec[], SettingTable]> = [
  ['gateway', SETTINGS, GATEWAY_SETTINGS],
  ['serve', SERVE_SETTINGS, SERVE_SETTINGS_TABLE],
];

describe('the README’s settings tables', () => {
  it('are as the settings definitions make them (run `pnpm --filter asyncmcp-proxy settings-docs`)', () => {
    expect(readme).toBe(withSettingsTables(readme));
  });

  it.each(
    tables,
  )('%s: has one row per setting, with its flag, variables, file key and default', (name, specs) => {
    const rows = tableIn(readme, name).slice(2);
    for (const spec of specs) {
      const flag = spec.value === undefined ? spec.flag : `${spec.flag} ${spec.value}`;
      const matching = rows.filter((row) => cellsOf(row)[0] === `\`${flag.replace(/\|/g, '\\|')}\``);
      expect(matching, flag).toHaveLength(1);
      const [, env, key, defaultText] = cellsOf(matching[0]!);
      expect(env).toBe(spec.env.map((variable) => `\`${variable}\``).join(', '));
      expect(key).toBe(`\`${spec.key}\``);
      if (spec.defaultText === undefined) expect(defaultText).toBe('—');
      else expect(defaultText?.replace(/[`\\]/g, '')).toBe(spec.defaultText);
    }
    expect(rows.some((row) => row.startsWith(`| \`${CONFIG_SETTING.flag} ${CONFIG_SETTING.value}\``))).toBe(
      true,
    );
  });

  it.each(tables)('%s: keeps five cells in every row, however the help text is written', (name) => {
    for (const row of tableIn(readme, name)) expect(cellsOf(row), row).toHaveLength(5);
  });

  it.each(
    tables,
  )('%s: names each setting’s backends, and links README sections that exist', (name, _specs, table) => {
    const rows = tableIn(readme, name);
    for (const [key, definition] of Object.entries(table)) {
      const row = rows.find((candidate) => cellsOf(candidate)[2] === `\`${key}\``)!;
      const about = cellsOf(row)[4]!;
      if (definition.backends !== undefined) {
        expect(about.startsWith(`\`${definition.backends[0]}\``), key).toBe(true);
        for (const backend of definition.backends) expect(about).toContain(`\`${backend}\``);
      }
      if (definition.readmeSection !== undefined) {
        expect(readme).toMatch(new RegExp(`^#+ ${definition.readmeSection}$`, 'm'));
        expect(about).toContain(`](#${definition.readmeSection.toLowerCase().replace(/ /g, '-')})`);
      }
    }
  });

  it('refuses a README without the markers, rather than losing a table', () => {
    expect(() => withSettingsTables(readme.replace(settingsMarkers('serve').end, ''))).toThrow(/serve/);
  });
});
