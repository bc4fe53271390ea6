import { AsyncMcpError, AsyncMcpErrorCode } from '@asyncmcp/core';
import { RESPONSE_QUEUE_LEASE } from '@asyncmcp/sqs';
import { decodeWebhookSecret } from '@asyncmcp/webhook';
import { z } from 'zod';
import { BACKEND_NAMES, type BackendName, LOG_LEVELS } from './backend-names.js';
import { integer, list, oneOf, refuse, show, text, type ValueType } from './value-types.js';

/** The value types of the gateway's and serve's settings, each with the words its refusals use. */

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

export function httpUrl(what: string, expected: string): ValueType<string> {
  return text({ what, expected }, isHttpUrl);
}

export function queueUrl(what: string, example = 'my-queue'): ValueType<string> {
  return httpUrl(
    what,
    `an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/${example}`,
  );
}

/** arn:<partition>:sns:<region>:<account>:<name>, a FIFO topic's name ending in .fifo. */
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

export function topicArn(what: string): ValueType<string> {
  const expected = 'an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:mcp-requests';
  return text({ what, expected }, (value) => TOPIC_ARN.test(value));
}

/** The backend's name: sns_sqs is another spelling of sns-sqs; an unknown name has a reason of its own. */
export const backendName: ValueType<BackendName> = (() => {
  const expected = `one of ${BACKEND_NAMES.join(', ')}`;
  return {
    what: 'backend',
    expected,
    fileSchema: z.enum([...BACKEND_NAMES, 'sns_sqs']),
    schema: text({ what: 'backend', expected }).schema.transform((value, ctx) => {
      const name = value.toLowerCase().replace('_', '-');
      if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
      return refuse(
        ctx,
        `unknown backend ${show(value)} from {source}: expected ${expected}`,
        'unknown-backend',
      );
    }),
  };
})();

export const port = integer(
  { what: 'port', expected: 'a whole number from 0 to 65535 (0 picks a free port)' },
  0,
  65_535,
);

/** The library's own bounds: other instances judge a lease by their clocks, so it is never short. */
export const responseQueueLease = integer(
  {
    what: 'response queue lease',
    expected: `a whole number of seconds from ${RESPONSE_QUEUE_LEASE.minSeconds} to ${RESPONSE_QUEUE_LEASE.maxSeconds} (a week)`,
  },
  RESPONSE_QUEUE_LEASE.minSeconds,
  RESPONSE_QUEUE_LEASE.maxSeconds,
);

export function atLeastOne(what: string): ValueType<number> {
  return integer({ what, expected: 'a whole number of at least 1' }, 1, Number.MAX_SAFE_INTEGER);
}

export const host = text(
  { what: 'host', expected: 'an interface address such as 127.0.0.1, 0.0.0.0 or ::1' },
  (value) => value !== '' && !/[\s/]/.test(value),
);

export const path = text(
  { what: 'path', expected: 'a path starting with "/", such as /mcp' },
  (value) => value.startsWith('/') && !/[\s?#]/.test(value),
);

export const region = text({ what: 'region', expected: 'an AWS region such as us-east-1' }, (value) =>
  /^[a-z0-9-]+$/.test(value),
);

export const logLevel = oneOf('log level', LOG_LEVELS);

export const endpointUrl = httpUrl('endpoint URL', 'an http(s) URL such as http://127.0.0.1:4566');

/** Origin headers are compared as they are sent: scheme://host[:port], nothing after. */
export const origin = text(
  {
    what: 'origin',
    expected:
      'an origin such as https://app.example.com (scheme, host and port only; no path or trailing slash)',
  },
  (value) => {
    try {
      const url = new URL(value);
      return url.origin !== 'null' && url.origin === value;
    } catch {
      return false;
    }
  },
);

function hostNameOf(value: string): string | undefined {
  try {
    const url = new URL(`http://${value}`);
    const bare = url.port === '' && url.pathname === '/' && url.search === '' && url.username === '';
    return bare && !value.includes('/') ? url.hostname : undefined;
  } catch {
    return undefined;
  }
}

/** A host name, kept as the Host check parses it (lower-case). */
export const hostName = text(
  { what: 'host name', expected: 'a host name such as mcp.example.com (no scheme, port or path)' },
  (value) => hostNameOf(value) !== undefined,
  (value) => hostNameOf(value)!,
);

/** A webhook host for the allow-list: a host name, or `*.` and a host name for its subdomains. */
export const webhookHost = text(
  {
    what: 'webhook host',
    expected: 'a host name such as hooks.example.com, or *.example.com for its subdomains',
  },
  (value) => {
    const name = value.startsWith('*.') ? value.slice(2) : value;
    return name !== '' && !name.includes('*') && hostNameOf(name) !== undefined;
  },
  (value) => (value.startsWith('*.') ? `*.${hostNameOf(value.slice(2))}` : hostNameOf(value)!),
);

export const serverUrl = httpUrl(
  'server URL',
  'the http(s) URL of the async MCP server, such as http://mcp.internal:8000/mcp/request',
);

/** An http(s) URL with no query, fragment or credentials; kept without a trailing slash. */
export const webhookBaseUrl = text(
  {
    what: 'webhook base URL',
    expected:
      'the http(s) URL at which the server reaches this gateway, such as http://gateway-1.internal:8080 (no query, fragment or credentials)',
  },
  (value) => {
    if (!isHttpUrl(value)) return false;
    const url = new URL(value);
    return url.search === '' && url.hash === '' && url.username === '' && url.password === '';
  },
  (value) => value.replace(/\/+$/, ''),
);

/** A path below the root, kept without a trailing slash (the sessions' paths are below it). */
export const webhookPath = text(
  { what: 'webhook path', expected: 'a path below the root, such as /webhooks' },
  (value) => {
    const trimmed = value.replace(/\/+$/, '');
    return value.startsWith('/') && trimmed !== '' && !/[\s?#]/.test(value) && !trimmed.includes('//');
  },
  (value) => value.replace(/\/+$/, ''),
);

/** A bearer token of at least 8 characters; never echoed. */
export const authToken: ValueType<string> = {
  what: 'auth token',
  expected: 'a string of at least 8 characters',
  secret: true,
  schema: z
    .string()
    .transform((value) => value.trim())
    .refine((value) => value.length >= 8, {
      params: { message: 'the auth token from {source} is too short: use at least 8 characters' },
    }),
};

/**
 * A Standard Webhooks secret: base64 (optionally after `whsec_`) of 16 bytes or more, decoded by the
 * webhook package as its signer decodes it. Never echoed.
 */
export const signingSecret: ValueType<string> = {
  what: 'signing secret',
  expected: 'a string (base64, optionally after whsec_)',
  secret: true,
  schema: z
    .string()
    .transform((value) => value.trim())
    .refine((value) => value !== '')
    .transform((value, ctx) => {
      try {
        decodeWebhookSecret(value, 'the signing secret from {source}');
      } catch (error) {
        if (!AsyncMcpError.isInstance(error) || error.code !== AsyncMcpErrorCode.Configuration) throw error;
        return refuse(ctx, error.message);
      }
      return value;
    }),
};

/** An `--allowed-response-queue` entry: an http(s) queue URL prefix, or an SNS topic ARN (`*` ends a prefix). */
export const responseDestination = text(
  {
    what: 'allowed response queue',
    expected:
      'a queue URL prefix such as https://sqs.eu-west-1.amazonaws.com/111122223333/replies- or a topic ARN such as arn:aws:sns:eu-west-1:111122223333:replies',
  },
  (value) => {
    if (value.startsWith('arn:')) {
      return /^arn:[^:]+:sns:[^:]*:[^:]*:[^:]+$/.test(value) && !value.slice(0, -1).includes('*');
    }
    if (!isHttpUrl(value)) return false;
    const url = new URL(value);
    return url.username === '' && url.password === '';
  },
);

/** A tool name for `--webhook-tool`: non-empty, no spaces. */
export const toolName = text(
  { what: 'webhook tool', expected: 'a tool name such as generate_report' },
  (value) => !/\s/.test(value),
);

export const corsOrigins = list('CORS origin', origin);
export const allowedHosts = list('allowed host', hostName);
export const allowedOrigins = list('allowed origin', origin);
