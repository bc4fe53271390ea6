import {
  type ClientCapabilities,
  type Implementation,
  InitializeRequestParamsSchema,
  type JSONRPCRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { RequestMetaKey, readMetaValue } from './meta.js';

/**
 * What an MCP server learns from `initialize` and may answer differently by: two requests with equal
 * keys can be served by the same initialized server, whichever session they come from.
 */
export interface ServerKey {
  protocolVersion: string;
  capabilities: ClientCapabilities;
  clientInfo: Implementation;
}

export type ServerKeyRead = { ok: true; key: ServerKey } | { ok: false; problem: string };

/** The key of an `initialize` request, from its params. */
export function initializeKeyOf(request: JSONRPCRequest): ServerKeyRead {
  const params = (request.params ?? {}) as Record<string, unknown>;
  return checkKey(
    {
      protocolVersion: params.protocolVersion,
      capabilities: params.capabilities,
      clientInfo: params.clientInfo,
    },
    (field) => `initialize params.${field}`,
  );
}

const META_KEY_OF_FIELD: Record<keyof ServerKey, string> = {
  protocolVersion: RequestMetaKey.ProtocolVersion,
  capabilities: RequestMetaKey.ClientCapabilities,
  clientInfo: RequestMetaKey.ClientInfo,
};

/**
 * The key a stateless request carries in its `_meta` (MCP 2026-07-28: what a fresh server needs to
 * answer it without a session). The problem, when there is one, names every missing entry at once, so
 * a client fixes them in one go.
 */
export function requestKeyOf(request: JSONRPCRequest): ServerKeyRead {
  const missing = Object.values(META_KEY_OF_FIELD).filter((key) => readMetaValue(request, key) === undefined);
  if (missing.length > 0) {
    const names = missing.map((key) => `_meta["${key}"]`).join(', ');
    return {
      ok: false,
      problem: `${request.method} is missing ${names}; a stateless server needs them on every request`,
    };
  }
  return checkKey(
    {
      protocolVersion: readMetaValue(request, RequestMetaKey.ProtocolVersion),
      capabilities: readMetaValue(request, RequestMetaKey.ClientCapabilities),
      clientInfo: readMetaValue(request, RequestMetaKey.ClientInfo),
    },
    (field) => `${request.method} _meta["${META_KEY_OF_FIELD[field]}"]`,
  );
}

/**
 * Checks a key with the SDK's own schema of `initialize` params, since the pool initializes a server
 * with it: what would fail there is refused here, before a server is spent on it.
 */
function checkKey(
  candidate: Record<keyof ServerKey, unknown>,
  describe: (field: keyof ServerKey) => string,
): ServerKeyRead {
  const parsed = InitializeRequestParamsSchema.safeParse(candidate);
  if (parsed.success) {
    // The candidate, not the parsed copy: a schema may strip fields a newer client added.
    return { ok: true, key: candidate as unknown as ServerKey };
  }
  const issue = parsed.error.issues[0];
  const [field, ...rest] = (issue?.path ?? []).map(String);
  const where = field && field in META_KEY_OF_FIELD ? describe(field as keyof ServerKey) : 'params';
  const suffix = rest.length > 0 ? `.${rest.join('.')}` : '';
  return { ok: false, problem: `invalid ${where}${suffix}: ${issue?.message ?? 'not valid'}` };
}

/** A stable text of a key: equal keys give equal text whatever the order of their object members. */
export function serverKeyId(key: ServerKey): string {
  return canonicalJson([key.protocolVersion, key.capabilities, key.clientInfo]);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, member]) => `${JSON.stringify(name)}:${canonicalJson(member)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
