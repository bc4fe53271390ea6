import { z } from 'zod';
import { GatewayConfigError, type GatewayConfigErrorReason } from './errors.js';
import { describeSource, type Raw } from './sources.js';

/**
 * A setting's value type. Its zod schema is the parser — it takes a raw value as it comes (text from a
 * flag or the environment, any YAML value from the file), coerces text, checks and transforms — and the
 * description of the file value in the config file's JSON Schema.
 */
export interface ValueType<T> {
  readonly schema: z.ZodType<T>;
  /** Names the value in refusals: "invalid <what> <value> from <source>: expected <expected>". */
  readonly what: string;
  readonly expected: string;
  /** A secret: refusals never echo it. */
  readonly secret?: boolean;
  /** Repeatable as a flag, comma-separated in the environment. */
  readonly repeatable?: boolean;
  /** A list: a refusal of one item names the item. */
  readonly item?: { readonly what: string; readonly expected: string };
  /** The file value's shape for the JSON Schema, when the parser takes anything and checks it itself. */
  readonly fileSchema?: z.ZodType;
}

/**
 * A refusal with a message of its own (and a reason other than invalid-value); `{source}` in the message
 * becomes the value's source. Raised from inside a schema.
 */
export function refuse(
  ctx: z.RefinementCtx,
  message: string,
  reason: GatewayConfigErrorReason = 'invalid-value',
): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message, params: { message, reason } });
  return z.NEVER;
}

/** Parses a raw value with its type's schema; a refusal names the value's source. */
export function parseValue<T>(type: ValueType<T>, raw: Raw): T {
  const result = type.schema.safeParse(raw.value, { reportInput: true });
  if (result.success) return result.data;
  throw refusalOf(type, raw, result.error.issues[0]);
}

function refusalOf<T>(type: ValueType<T>, raw: Raw, issue: z.core.$ZodIssue | undefined): GatewayConfigError {
  const source = describeSource(raw.source);
  const params = issue?.code === 'custom' ? (issue.params as { message?: string; reason?: string }) : {};
  if (params?.message !== undefined) {
    const reason = (params.reason ?? 'invalid-value') as GatewayConfigErrorReason;
    return new GatewayConfigError(reason, params.message.replaceAll('{source}', source));
  }
  if (type.item !== undefined && issue !== undefined && issue.path.length > 0) {
    // One item of a list: a non-string is refused as the list's, a bad string as the item it is.
    const input = (issue as { input?: unknown }).input;
    const { what, expected } = issue.code === 'invalid_type' ? { ...type, expected: 'a string' } : type.item;
    return invalidValue(what, input, source, expected);
  }
  if (type.secret) {
    return new GatewayConfigError(
      'invalid-value',
      `invalid ${type.what} from ${source}: expected ${type.expected}`,
    );
  }
  return invalidValue(type.what, raw.value, source, type.expected);
}

/** The refusal of most values: what it is, as given, where from, and what was expected. */
export function invalidValue(
  what: string,
  value: unknown,
  source: string,
  expected: string,
): GatewayConfigError {
  return new GatewayConfigError(
    'invalid-value',
    `invalid ${what} ${show(value)} from ${source}: expected ${expected}`,
  );
}

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

// ---- coercions of text: flags and environment variables are strings, file values are YAML's own ----

/** A string, trimmed; a number as its text; anything else as it is, for the schema to refuse. */
function asText(value: unknown): unknown {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return value;
}

function asNumber(pattern: RegExp): (value: unknown) => unknown {
  return (value) => (typeof value === 'string' && pattern.test(value) ? Number(value) : value);
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

function asBoolean(value: unknown): unknown {
  const text = asText(value);
  if (typeof text !== 'string') return value;
  const word = text.toLowerCase();
  return TRUE_WORDS.includes(word) ? true : FALSE_WORDS.includes(word) ? false : value;
}

// ---- value types ----

interface Described {
  what: string;
  expected: string;
}

/** Text, checked by `check` and turned into its value by `transform` (trimmed text unless given). */
export function text(
  described: Described,
  check: (value: string) => boolean = () => true,
  transform: (value: string) => string = (value) => value,
): ValueType<string> {
  return {
    ...described,
    schema: z.preprocess(asText, z.string().refine(check).transform(transform)),
  };
}

/** One of `values`, as text compared case-insensitively. */
export function oneOf<const T extends readonly [string, ...string[]]>(
  what: string,
  values: T,
): ValueType<T[number]> {
  const lowerCase = (value: unknown) => {
    const given = asText(value);
    return typeof given === 'string' ? given.toLowerCase() : given;
  };
  return { what, expected: `one of ${values.join(', ')}`, schema: z.preprocess(lowerCase, z.enum(values)) };
}

/** A whole number from `min` to `max`. */
export function integer(described: Described, min: number, max: number): ValueType<number> {
  return {
    ...described,
    schema: z.preprocess(asNumber(/^\s*\d+\s*$/), z.int().min(min).max(max)),
  };
}

/** setTimeout cannot wait longer than 2^31-1 ms; beyond that it would fire at once. */
const LONGEST_TIMER_MS = 2_147_483_647;

/** A number of seconds greater than 0, fractions allowed. */
export function seconds(what: string): ValueType<number> {
  return {
    what,
    expected: 'a number of seconds greater than 0, such as 30 or 0.5',
    schema: z.preprocess(
      asNumber(/^\s*\d+(\.\d+)?\s*$/),
      z
        .number()
        .positive()
        .refine((value) => Number.isFinite(value) && value * 1000 <= LONGEST_TIMER_MS),
    ),
  };
}

/** A switch: true or false, also spelled 1/0, yes/no, on/off. */
export function boolean(what: string): ValueType<boolean> {
  return { what, expected: 'true or false', schema: z.preprocess(asBoolean, z.boolean()) };
}

/**
 * A list from repeated flags, a comma-separated string or a file array (whose items may hold commas
 * too); every item checked by `item`.
 */
export function list(what: string, item: ValueType<string>): ValueType<string[]> {
  const items = (value: unknown) =>
    (Array.isArray(value) ? value : [value]).flatMap((entry: unknown) =>
      typeof entry === 'string'
        ? entry
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part !== '')
        : [entry],
    );
  return {
    what,
    expected: item.expected,
    repeatable: true,
    // A file may hold a list, or one string of comma-separated items as the environment does.
    fileSchema: z.union([z.array(z.string()), z.string()]),
    item: { what: item.what, expected: item.expected },
    // Items are checked as strings first: a number in a file's list is refused, not read as text.
    schema: z.preprocess(items, z.array(z.string().pipe(item.schema as z.ZodType<string, string>))),
  };
}
