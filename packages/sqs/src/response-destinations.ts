import { DestinationRefusedError } from '@asyncmcp/core';
import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Where a message may send our answers (PROTOCOL.md §8, "Destinations"). A request queue is shared by
 * design, so whoever can write to it can name any queue URL or topic ARN as the place to answer; and the
 * AWS SDK, unless given an endpoint, sends to the host a queue URL names, signed with our credentials.
 * So a destination named by a message is used only when it is on the endpoint this side is configured
 * for (its explicit endpoint, or the origin of its own queue's URL), in the same account (and, for a
 * topic, region) as its own queue — or when an allow-list entry names it.
 */
export interface DestinationScope {
  /** Origins (`scheme://host:port`) whose queues are ours: the explicit endpoint's and the home queue's. */
  readonly origins: readonly string[];
  /** The account of the home queue (the first segment of its path); undefined when it has none. */
  readonly account: string | undefined;
  /** The home queue's region: the one its host names, else the SQS client's. */
  readonly region: string | undefined;
  /** Allow-list entries: queue URL prefixes, and topic ARNs (a trailing `*` makes one a prefix). */
  readonly allowed: readonly string[];
}

export interface DestinationScopeOptions {
  /** The client this side sends with; its explicit endpoint, if any, is one of the scope's origins. */
  sqsClient: SQSClient;
  /** The queue this side reads or sends to by configuration (a worker's request queue, say). */
  homeQueueUrl: string;
  /** Destinations allowed besides the scope: queue URL prefixes, topic ARNs or ARN prefixes ending in `*`. */
  allowed?: readonly string[] | undefined;
}

/** Reads the scope once (the client's endpoint and region are async providers). */
export async function destinationScopeOf(options: DestinationScopeOptions): Promise<DestinationScope> {
  const home = new URL(options.homeQueueUrl);
  const origins = [home.origin];
  const endpoint = await explicitEndpointOf(options.sqsClient);
  if (endpoint !== undefined && !origins.includes(endpoint)) origins.push(endpoint);
  const segments = pathSegments(home);
  let region = regionOfQueueHost(home.hostname);
  if (region === undefined) {
    try {
      region = await options.sqsClient.config.region();
    } catch {
      region = undefined;
    }
  }
  return {
    origins,
    account: segments.length === 2 ? segments[0] : undefined,
    region,
    allowed: options.allowed ?? [],
  };
}

/** The reason a queue URL may not be sent to; undefined when it may. */
export function queueRefusal(scope: DestinationScope, queueUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(queueUrl);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `scheme ${url.protocol} is not http(s)`;
  if (scope.allowed.some((entry) => queueAllowedBy(entry, url))) return undefined;
  if (url.username !== '' || url.password !== '') return 'a queue URL with credentials in it';
  if (!scope.origins.includes(url.origin)) {
    return `${url.host} is not the SQS endpoint this side uses (${scope.origins.map(hostOf).join(', ')})`;
  }
  const segments = pathSegments(url);
  if (segments.length !== 2 || url.search !== '' || url.hash !== '')
    return 'not a queue URL (/<account>/<name>)';
  if (scope.account !== undefined && segments[0] !== scope.account) {
    return `account ${segments[0]} is not this side's account (${scope.account})`;
  }
  return undefined;
}

/** The reason a topic ARN may not be published to; undefined when it may. */
export function topicRefusal(scope: DestinationScope, topicArn: string): string | undefined {
  if (scope.allowed.some((entry) => arnAllowedBy(entry, topicArn))) return undefined;
  const parts = topicArn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sns' || parts[5] === '') {
    return 'not an SNS topic ARN';
  }
  const [, , , region, account] = parts;
  if (scope.region !== undefined && region !== scope.region) {
    return `region ${region} is not this side's region (${scope.region})`;
  }
  if (scope.account !== undefined && account !== scope.account) {
    return `account ${account} is not this side's account (${scope.account})`;
  }
  return undefined;
}

/** Throws a `DestinationRefusedError` for a queue URL outside the scope; returns it otherwise. */
export function assertQueueAllowed(scope: DestinationScope, queueUrl: string): string {
  const reason = queueRefusal(scope, queueUrl);
  if (reason !== undefined) throw new DestinationRefusedError({ destination: loggableUrl(queueUrl), reason });
  return queueUrl;
}

/** Throws a `DestinationRefusedError` for a topic ARN outside the scope; returns it otherwise. */
export function assertTopicAllowed(scope: DestinationScope, topicArn: string): string {
  const reason = topicRefusal(scope, topicArn);
  if (reason !== undefined) throw new DestinationRefusedError({ destination: topicArn, reason });
  return topicArn;
}

/** A URL as it may be logged: scheme, host and path, never credentials or a query. */
export function loggableUrl(value: string): string {
  try {
    const url = new URL(value);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/**
 * A URL entry allows queues on its origin whose path starts with its path; origins are compared parsed,
 * so `https://sqs.example.com` does not allow `https://sqs.example.com.evil.net/…`.
 */
function queueAllowedBy(entry: string, url: URL): boolean {
  if (entry.startsWith('arn:')) return false;
  let allowed: URL;
  try {
    allowed = new URL(entry);
  } catch {
    return false;
  }
  return allowed.origin === url.origin && url.pathname.startsWith(allowed.pathname);
}

function arnAllowedBy(entry: string, arn: string): boolean {
  if (!entry.startsWith('arn:')) return false;
  return entry.endsWith('*') ? arn.startsWith(entry.slice(0, -1)) : arn === entry;
}

/** The origin of the client's explicitly configured endpoint; undefined when the SDK resolves its own. */
async function explicitEndpointOf(sqsClient: SQSClient): Promise<string | undefined> {
  const provider = (sqsClient.config as { endpoint?: () => Promise<unknown> }).endpoint;
  if (typeof provider !== 'function') return undefined;
  const endpoint = (await provider()) as
    | { url?: URL; protocol?: string; hostname?: string; port?: number | string }
    | undefined;
  if (endpoint?.url instanceof URL) return endpoint.url.origin;
  if (endpoint?.hostname === undefined) return undefined;
  const port = endpoint.port === undefined || endpoint.port === '' ? '' : `:${endpoint.port}`;
  return new URL(`${endpoint.protocol ?? 'https:'}//${endpoint.hostname}${port}`).origin;
}

/** The region an SQS host names: `sqs.<region>.…` (also emulators that copy it) or `<region>.queue.…`. */
function regionOfQueueHost(hostname: string): string | undefined {
  const match =
    /^sqs\.([a-z0-9-]+)\./.exec(hostname) ?? /^([a-z]{2}(?:-[a-z]+)+-\d+)\.queue\./.exec(hostname);
  return match?.[1];
}

function pathSegments(url: URL): string[] {
  return url.pathname.split('/').filter((segment) => segment !== '');
}

function hostOf(origin: string): string {
  return new URL(origin).host;
}
