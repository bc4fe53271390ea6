import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Just enough of a Dockerfile reader to run the image's entrypoint without Docker: instructions joined
 * across line continuations, comments dropped, grouped into stages; ENV, ENTRYPOINT, CMD and HEALTHCHECK
 * read the way Docker reads them. What it does not understand (variable references, heredocs) it refuses,
 * so a Dockerfile it would misread fails the tests instead of passing them.
 */

export const DOCKERFILE_PATH = fileURLToPath(new URL('../Dockerfile', import.meta.url));

export interface Instruction {
  /** Upper-case, as Docker matches them case-insensitively. */
  keyword: string;
  /** Everything after the keyword, continuations joined with a space. */
  args: string;
}

export interface Stage {
  /** The base image, e.g. node:24-slim. */
  image: string;
  /** The name after AS, if any. */
  name: string | undefined;
  /** The stage's instructions after its FROM. */
  instructions: Instruction[];
}

/** What `docker run` takes from the final stage. */
export interface RuntimeImage {
  env: Record<string, string>;
  workdir: string | undefined;
  entrypoint: string[];
  cmd: string[];
  /** The HEALTHCHECK's CMD, as an argument vector. */
  healthcheck: string[] | undefined;
}

export function readDockerfile(path = DOCKERFILE_PATH): Stage[] {
  return parseDockerfile(readFileSync(path, 'utf8'));
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const { keyword, args } of instructionsOf(text)) {
    if (keyword === 'FROM') {
      const match = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(args);
      if (!match) throw new Error(`cannot read FROM ${args}`);
      stages.push({ image: match[1]!, name: match[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) {
      if (keyword === 'ARG') continue;
      throw new Error(`${keyword} before the first FROM`);
    }
    stage.instructions.push({ keyword, args });
  }
  return stages;
}

/** The final stage as `docker run` sees it (ENV and WORKDIR of the base image are not known here). */
export function runtimeImage(stages: readonly Stage[]): RuntimeImage {
  const last = stages.at(-1);
  if (last === undefined) throw new Error('no FROM in the Dockerfile');
  const image: RuntimeImage = {
    env: {},
    workdir: undefined,
    entrypoint: [],
    cmd: [],
    healthcheck: undefined,
  };
  for (const { keyword, args } of last.instructions) {
    if (keyword === 'ENV') Object.assign(image.env, parseEnv(args));
    else if (keyword === 'WORKDIR') image.workdir = args.trim();
    else if (keyword === 'ENTRYPOINT') {
      image.entrypoint = commandOf(args);
      // Docker resets an inherited CMD when ENTRYPOINT is set.
      image.cmd = [];
    } else if (keyword === 'CMD') image.cmd = commandOf(args);
    else if (keyword === 'HEALTHCHECK') image.healthcheck = healthcheckOf(args);
  }
  return image;
}

function instructionsOf(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    // Comment lines are dropped, inside a continuation too (as Docker does).
    if (line.startsWith('#')) continue;
    if (line === '' && pending === '') continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole === '') continue;
    if (/<<-?["']?[A-Za-z]/.test(whole)) throw new Error(`heredocs are not supported: ${whole}`);
    const keyword = whole.split(/\s/, 1)[0]!;
    instructions.push({ keyword: keyword.toUpperCase(), args: whole.slice(keyword.length).trim() });
  }
  if (pending !== '') throw new Error('the Dockerfile ends inside a line continuation');
  return instructions;
}

/** `ENV a=1 b="two words"`, or the legacy `ENV name value with spaces`. */
export function parseEnv(args: string): Record<string, string> {
  const words = shellWords(args);
  if (words.length > 0 && !words[0]!.includes('=')) {
    const [name, ...value] = args.trim().split(/\s+/);
    return { [name!]: shellWords(value.join(' ')).join(' ') };
  }
  const env: Record<string, string> = {};
  for (const word of words) {
    const at = word.indexOf('=');
    if (at <= 0) throw new Error(`cannot read ENV ${args}`);
    env[word.slice(0, at)] = word.slice(at + 1);
  }
  return env;
}

/** Exec form (a JSON array) as it is; shell form runs under /bin/sh -c, as Docker runs it. */
function commandOf(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) {
    const parsed: unknown = JSON.parse(trimmed);
    if (!Array.isArray(parsed) || !parsed.every((word) => typeof word === 'string')) {
      throw new Error(`not an exec-form command: ${trimmed}`);
    }
    return parsed;
  }
  return trimmed === '' ? [] : ['/bin/sh', '-c', trimmed];
}

function healthcheckOf(args: string): string[] | undefined {
  const match = /^(?:--\S+\s+)*(NONE|CMD)\b\s*(.*)$/is.exec(args.trim());
  if (!match) throw new Error(`cannot read HEALTHCHECK ${args}`);
  return match[1]!.toUpperCase() === 'NONE' ? undefined : commandOf(match[2]!);
}

/** Words as Docker splits ENV: whitespace outside quotes; quotes removed; backslash escapes one character. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote === undefined && /\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    word ??= '';
    if (char === '$' && quote !== "'") throw new Error(`variable references are not supported: ${text}`);
    if (char === '\\' && quote !== "'" && i + 1 < text.length) {
      word += text[++i];
    } else if (quote === undefined && (char === '"' || char === "'")) {
      quote = char;
    } else if (char === quote) {
      quote = undefined;
    } else {
      word += char;
    }
  }
  if (quote !== undefined) throw new Error(`unterminated quote in ${text}`);
  if (word !== undefined) words.push(word);
  return words;
}
