import { z } from 'zod';
import { refuse, text, type ValueType } from './value-types.js';
import { isHttpUrl } from './values.js';

/** The value types only `serve` has: upstream headers, the children's variables, the worker's inbox. */

/** An HTTP header field name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A value given as a string, a list or a mapping; each kind read by its own function. */
interface ItemReaders {
  /** A string as the environment gives it: several items in one. */
  joined(value: string): void;
  /** One list item (a flag, or an item of the file's list). */
  item(value: string): void;
  /** One entry of the file's mapping. */
  entry(name: string, value: unknown): void;
}

function readItems(value: unknown, readers: ItemReaders, refusal: (why: string) => never): void {
  if (typeof value === 'string') {
    readers.joined(value);
  } else if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item !== 'string') refusal('a list item is not a string');
      readers.item(item);
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [name, entry] of Object.entries(value)) readers.entry(name, entry);
  } else {
    refusal('not a string, a list or a mapping');
  }
}

/** What a file may hold for a list-or-mapping setting, for the JSON Schema. */
function listOrMapping(entry: z.ZodType): z.ZodType {
  return z.union([z.string(), z.array(z.string()), z.record(z.string(), entry)]);
}

/**
 * Upstream headers as `Name: value`: one per flag, a list or a `{ Name: value }` mapping in the file,
 * comma-separated in the environment (a comma followed by `Name:` starts the next header, so values may
 * hold commas). Values are secrets as often as not, so refusals never echo them. Repeated names join
 * with ", " as HTTP does.
 */
export const upstreamHeaders: ValueType<Record<string, string>> = {
  what: 'upstream header',
  expected: 'a header such as "Authorization: Bearer <token>"',
  repeatable: true,
  fileSchema: listOrMapping(z.union([z.string(), z.number()])),
  schema: z.unknown().transform((value, ctx) => {
    const refusal = (why: string): never => {
      refuse(
        ctx,
        `invalid upstream header from {source}: ${why}; expected a header such as "Authorization: Bearer <token>"`,
      );
      throw new ValueRefused();
    };
    const pairs: Array<[string, string]> = [];
    const addPair = (name: string, headerValue: string) => {
      const trimmedName = name.trim();
      if (!HEADER_NAME.test(trimmedName)) refusal(`"${trimmedName}" is not a header name`);
      if (/[\r\n\0]/.test(headerValue)) refusal(`the value of ${trimmedName} holds a line break`);
      pairs.push([trimmedName, headerValue.trim()]);
    };
    const addLine = (line: string) => {
      const colon = line.indexOf(':');
      if (colon === -1) refusal('no ":" between name and value');
      addPair(line.slice(0, colon), line.slice(colon + 1));
    };
    try {
      readItems(
        value,
        {
          joined: (joined) => {
            for (const part of joined.split(/,(?=\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*:)/)) {
              if (part.trim() !== '') addLine(part);
            }
          },
          item: addLine,
          entry: (name, headerValue) => {
            if (typeof headerValue !== 'string' && typeof headerValue !== 'number') {
              refusal(`the value of ${name} is not a string`);
            }
            addPair(name, String(headerValue));
          },
        },
        refusal,
      );
    } catch (error) {
      if (error instanceof ValueRefused) return z.NEVER;
      throw error;
    }
    return joinRepeated(pairs);
  }),
};

/** Stops reading a value at its first refusal (the issue is already raised). */
class ValueRefused extends Error {}

function joinRepeated(pairs: ReadonlyArray<[string, string]>): Record<string, string> {
  const headers: Record<string, string> = {};
  const spelling = new Map<string, string>();
  for (const [name, headerValue] of pairs) {
    const known = spelling.get(name.toLowerCase());
    if (known === undefined) {
      spelling.set(name.toLowerCase(), name);
      headers[name] = headerValue;
    } else {
      headers[known] = `${headers[known]}, ${headerValue}`;
    }
  }
  return headers;
}

/** A child process's variable: a value to set, or none to pass serve's own. */
export interface ChildVariable {
  name: string;
  value?: string;
}

/** An environment variable name as POSIX shells take it. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `NAME=value` or `NAME` items: each flag whole (a value may hold commas), the environment variable
 * comma-separated, a file's list item by item or a mapping of names to values (null: serve's own value).
 * Values are never echoed in refusals: they may be secrets.
 */
export const childVariables: ValueType<ChildVariable[]> = {
  what: '--env',
  expected: "NAME=value, or NAME alone to pass serve's own value",
  repeatable: true,
  fileSchema: listOrMapping(z.union([z.string(), z.number(), z.null()])),
  schema: z.unknown().transform((value, ctx) => {
    const refusal = (why: string): never => {
      refuse(
        ctx,
        `invalid --env from {source}: ${why}; expected NAME=value, or NAME alone to pass serve's own value`,
      );
      throw new ValueRefused();
    };
    const variables: ChildVariable[] = [];
    const add = (name: string, variableValue: string | undefined) => {
      if (!VARIABLE_NAME.test(name)) refusal(`"${name.slice(0, 64)}" is not a variable name`);
      if (variableValue?.includes('\0')) refusal(`the value of ${name} holds a NUL`);
      variables.push(variableValue === undefined ? { name } : { name, value: variableValue });
    };
    const addItem = (item: string) => {
      const equals = item.indexOf('=');
      if (equals === -1) add(item.trim(), undefined);
      else add(item.slice(0, equals).trim(), item.slice(equals + 1));
    };
    try {
      readItems(
        value,
        {
          joined: (joined) => {
            for (const part of joined.split(',')) if (part.trim() !== '') addItem(part);
          },
          item: addItem,
          entry: (name, itemValue) => {
            if (itemValue === null) add(name, undefined);
            else if (typeof itemValue === 'string' || typeof itemValue === 'number')
              add(name, String(itemValue));
            else refusal(`the value of ${name} is not a string`);
          },
        },
        refusal,
      );
    } catch (error) {
      if (error instanceof ValueRefused) return z.NEVER;
      throw error;
    }
    return variables;
  }),
};

/** This worker's own queue: made at start (`create`), none, or one made for it. */
export type InboxChoice = 'create' | 'none' | { queueUrl: string };

const INBOX_EXPECTED =
  'create, none, or an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/worker-1';

export const inbox: ValueType<InboxChoice> = {
  what: 'inbox',
  expected: INBOX_EXPECTED,
  schema: text(
    { what: 'inbox', expected: INBOX_EXPECTED },
    (value) => value === 'create' || value === 'none' || isHttpUrl(value),
  ).schema.transform(
    (value): InboxChoice => (value === 'create' || value === 'none' ? value : { queueUrl: value }),
  ),
};
