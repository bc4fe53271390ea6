import { CONFIG_SETTING, SERVE_CONFIG_SETTING } from './config-file.js';
import { GATEWAY_SETTINGS } from './gateway-settings.js';
import { SERVE_COMMAND, SERVE_SETTINGS_TABLE } from './serve-settings.js';
import { defaultTextOf, type SettingDefinition, type SettingTable } from './setting.js';

/**
 * The README's settings tables, written from the settings definitions so that they cannot drift from
 * help and the resolvers. Each table sits between two marker comments in apps/proxy/README.md;
 * `pnpm --filter asyncmcp-proxy settings-docs` rewrites them, and a test fails while they are stale.
 */
export const SETTINGS_DOCS = {
  gateway: () => settingsTable(GATEWAY_SETTINGS, [], CONFIG_SETTING),
  serve: () => settingsTable(SERVE_SETTINGS_TABLE, [commandRow()], SERVE_CONFIG_SETTING),
} as const;

export type SettingsDocName = keyof typeof SETTINGS_DOCS;

/** The marker comments around a generated table. */
export function settingsMarkers(name: SettingsDocName): { start: string; end: string } {
  return {
    start: `<!-- settings-table:${name} (generated from src/config: pnpm --filter asyncmcp-proxy settings-docs) -->`,
    end: `<!-- /settings-table:${name} -->`,
  };
}

/** `readme` with every generated table written anew between its markers. */
export function withSettingsTables(readme: string): string {
  let text = readme;
  for (const name of Object.keys(SETTINGS_DOCS) as SettingsDocName[]) {
    const { start, end } = settingsMarkers(name);
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from === -1 || to < from) throw new Error(`the README has no ${name} settings table markers`);
    text = `${text.slice(0, from + start.length)}\n${SETTINGS_DOCS[name]()}${text.slice(to)}`;
  }
  return text;
}

type Row = readonly [flag: string, env: string, key: string, defaultText: string, about: string];

const HEADER = '| flag | environment | config key | default | |\n|---|---|---|---|---|\n';
const NONE = '—';

function settingsTable(
  table: SettingTable,
  firstRows: readonly Row[],
  config: { flag: string; value: string; env: readonly string[]; description: string; defaultText: string },
): string {
  const rows: Row[] = [...firstRows];
  for (const [key, definition] of Object.entries(table)) rows.push(settingRow(key, definition));
  rows.push([
    code(`${config.flag} ${config.value}`),
    config.env.map(code).join(', '),
    NONE,
    prose(config.defaultText),
    prose(config.description),
  ]);
  return `${HEADER}${rows.map((row) => `| ${row.join(' | ')} |\n`).join('')}`;
}

function settingRow(key: string, definition: SettingDefinition): Row {
  const flag = definition.value === undefined ? definition.flag : `${definition.flag} ${definition.value}`;
  const defaultText = defaultTextOf(definition, code);
  return [
    code(flag),
    definition.env.map(code).join(', '),
    code(key),
    defaultText === undefined ? NONE : prose(defaultText),
    about(definition),
  ];
}

function commandRow(): Row {
  return [
    code(SERVE_COMMAND.usage),
    NONE,
    SERVE_COMMAND.fileKeys.map(code).join(', '),
    NONE,
    prose(SERVE_COMMAND.description),
  ];
}

/** The description, its backends set apart at the front, and the README section that says more. */
function about(definition: SettingDefinition): string {
  let text = definition.description;
  const backends = definition.backends;
  if (backends !== undefined) {
    // Help starts each backend-specific description with its backends (a config test holds it to that).
    const prefix = `${backends.join(', ')}: `;
    text = `${backendList(backends)}: ${prose(text.startsWith(prefix) ? text.slice(prefix.length) : text)}`;
  } else {
    text = prose(text);
  }
  if (definition.readmeSection !== undefined) {
    text += ` (see [${definition.readmeSection}](#${anchorOf(definition.readmeSection)}))`;
  }
  return text;
}

function backendList(backends: readonly string[]): string {
  const names = backends.map(code);
  if (names.length === 1) return `${names[0]} only`;
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** A heading's anchor as GitHub makes it. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}

function code(text: string): string {
  return `\`${text.replace(/\|/g, '\\|')}\``;
}

/**
 * Help's plain text as a table cell: flags, variables, paths, URLs, quoted strings and placeholders
 * become code (kept as they are), and what Markdown would read as markup is escaped.
 */
const CODE_LIKE = new RegExp(
  [
    '`[^`]+`', // already code
    '"[^"]+"', // a quoted literal, such as a header
    'https?://[^\\s),;]*[^\\s),;.]', // a URL
    '(?<![\\w-])--[a-z][a-z0-9-]*', // a flag
    '\\b(?:ASYNCMCP|AWS)_[A-Z0-9_]+\\b', // an environment variable
    '(?<=[\\s(])/[a-z](?:[\\w./-]*[\\w/])?', // a path
    '[\\w/:.-]*<[\\w-]+>(?:[\\w/:.-]|<[\\w-]+>)*', // a placeholder, such as <url><webhook-path>/<session>
  ].join('|'),
  'g',
);

function prose(text: string): string {
  let cell = '';
  let last = 0;
  for (const match of text.matchAll(CODE_LIKE)) {
    cell += escapeMarkup(text.slice(last, match.index));
    const token = match[0];
    cell += token.startsWith('`') ? token : code(token.startsWith('"') ? token.slice(1, -1) : token);
    last = match.index + token.length;
  }
  return cell + escapeMarkup(text.slice(last));
}

function escapeMarkup(text: string): string {
  return text.replace(/[|*<>]/g, (character) => `\\${character}`);
}
