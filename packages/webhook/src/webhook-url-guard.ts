import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { DeliveryError, describeError } from '@asyncmcp/core';
import { redactUrl } from './webhook-http.js';

/**
 * The SSRF guard of PROTOCOL.md §3: a webhook URL comes from a client, so before the server POSTs to it
 * the host is resolved and every address it resolves to is classified. Cloud-metadata, link-local,
 * multicast and reserved addresses are refused always; private, loopback and unspecified ones unless the
 * server allows private networks. The caller then connects to an address it validated here (see
 * `pinnedLookup`), so a DNS answer that changes between the check and the connection cannot redirect it.
 */

export type AddressClass =
  | 'metadata'
  | 'link-local'
  | 'multicast'
  | 'reserved'
  | 'loopback'
  | 'unspecified'
  | 'private'
  | 'public';

const NEVER_ALLOWED: ReadonlySet<AddressClass> = new Set(['metadata', 'link-local', 'multicast', 'reserved']);
const PRIVATE: ReadonlySet<AddressClass> = new Set(['loopback', 'unspecified', 'private']);

function blockList(entries: Array<[string, number, 'ipv4' | 'ipv6']>): BlockList {
  const list = new BlockList();
  for (const [network, prefix, type] of entries) {
    if ((type === 'ipv4' && prefix === 32) || (type === 'ipv6' && prefix === 128))
      list.addAddress(network, type);
    else list.addSubnet(network, prefix, type);
  }
  return list;
}

// Checked in this order: the first list an address is on names its class.
const CLASSES: ReadonlyArray<[AddressClass, BlockList]> = [
  [
    'metadata',
    blockList([
      ['169.254.169.254', 32, 'ipv4'], // AWS, GCP, Azure, OpenStack …
      ['169.254.170.2', 32, 'ipv4'], // AWS ECS task metadata
      ['100.100.100.200', 32, 'ipv4'], // Alibaba Cloud
      ['168.63.129.16', 32, 'ipv4'], // Azure wire server (a public address, so named here)
      ['192.0.0.192', 32, 'ipv4'], // Oracle Cloud
      ['fd00:ec2::254', 128, 'ipv6'], // AWS IMDS over IPv6
    ]),
  ],
  [
    'link-local',
    blockList([
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ]),
  ],
  [
    'multicast',
    blockList([
      ['224.0.0.0', 4, 'ipv4'],
      ['ff00::', 8, 'ipv6'],
    ]),
  ],
  [
    'reserved',
    blockList([
      ['240.0.0.0', 4, 'ipv4'], // includes 255.255.255.255
      ['192.0.2.0', 24, 'ipv4'], // documentation ranges: nobody legitimate lives there
      ['198.51.100.0', 24, 'ipv4'],
      ['203.0.113.0', 24, 'ipv4'],
      ['2001:db8::', 32, 'ipv6'],
    ]),
  ],
  [
    'loopback',
    blockList([
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ]),
  ],
  [
    'unspecified',
    blockList([
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ]),
  ],
  [
    'private',
    blockList([
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT, often a provider's internal network
      ['198.18.0.0', 15, 'ipv4'], // benchmarking
      ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
      ['fc00::', 7, 'ipv6'], // unique local
      ['fec0::', 10, 'ipv6'], // deprecated site-local
    ]),
  ],
];

/** Classifies one literal IPv4 or IPv6 address. IPv4 embedded in IPv6 is classified as the IPv4 it names. */
export function classifyAddress(address: string): AddressClass | 'invalid' {
  const bare = stripBrackets(address).split('%')[0] ?? '';
  const family = isIP(bare);
  if (family === 0) return 'invalid';
  if (family === 6) {
    const embedded = embeddedIpv4(bare);
    if (embedded !== undefined) return classifyAddress(embedded);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [name, list] of CLASSES) if (list.check(bare, type)) return name;
  return 'public';
}

/** Whether the guard lets a connection to an address of this class through. */
export function isAllowedClass(
  addressClass: AddressClass | 'invalid',
  allowPrivateNetworks: boolean,
): boolean {
  if (addressClass === 'invalid' || NEVER_ALLOWED.has(addressClass)) return false;
  if (PRIVATE.has(addressClass)) return allowPrivateNetworks;
  return true;
}

/**
 * The IPv4 address an IPv6 address carries, for the forms a connection can reach it by: IPv4-mapped
 * (`::ffff:a.b.c.d`), NAT64 (`64:ff9b::/96`), 6to4 (`2002::/16`) and the old IPv4-compatible `::a.b.c.d`.
 */
function embeddedIpv4(address: string): string | undefined {
  const words = expandIpv6(address);
  if (!words) return undefined;
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const zero = (from: number, to: number) => words.slice(from, to).every((word) => word === 0);
  if (zero(0, 5) && words[5] === 0xffff) return v4(words[6] as number, words[7] as number);
  if (words[0] === 0x64 && words[1] === 0xff9b && zero(2, 6))
    return v4(words[6] as number, words[7] as number);
  if (words[0] === 0x2002) return v4(words[1] as number, words[2] as number);
  // `::` and `::1` are IPv6's own unspecified and loopback addresses, not embedded IPv4.
  if (zero(0, 6) && !(words[6] === 0 && (words[7] as number) <= 1)) {
    return v4(words[6] as number, words[7] as number);
  }
  return undefined;
}

/** Eight 16-bit words of an IPv6 address (which `isIP` already accepted). */
function expandIpv6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const dotted = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').map((word) => Number.parseInt(word, 16));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  return [...left, ...new Array<number>(missing).fill(0), ...right];
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has. Replace it in tests with a stub. */
export type WebhookDnsLookup = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemDnsLookup: WebhookDnsLookup = async (hostname) => {
  const found: LookupAddress[] = await lookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
};

export interface WebhookUrlPolicy {
  /** Allow loopback, private (RFC 1918, unique-local) and unspecified addresses. @default false */
  allowPrivateNetworks?: boolean;
  /**
   * When set, only these host names may be webhook targets: exact names, or `*.example.com` for any
   * subdomain. The address checks still apply to allowed hosts. @default any host
   */
  allowedWebhookHosts?: readonly string[];
  /** @default node:dns `lookup` with `all: true` */
  dnsLookup?: WebhookDnsLookup;
}

/** A webhook URL the guard accepted, with the addresses it may be reached at. */
export interface WebhookTarget {
  readonly url: URL;
  /** The host name as the URL names it, lowercase, without IPv6 brackets. */
  readonly hostname: string;
  /** Every address the host resolved to; all of them passed the checks. Connect to one of these. */
  readonly addresses: readonly ResolvedAddress[];
}

/** A webhook URL the SSRF guard refuses. Not retryable: the same URL is refused the same way. */
export class WebhookUrlRefusedError extends DeliveryError {
  readonly url: string;
  readonly reason: string;
  constructor({ url, reason }: { url: string | URL; reason: string }) {
    super({ message: `Webhook URL ${redactUrl(url)} refused: ${reason}`, isRetryable: false });
    this.name = 'WebhookUrlRefusedError';
    this.url = redactUrl(url);
    this.reason = reason;
  }
}

/**
 * Checks a webhook URL and resolves its host. Rejects with a `WebhookUrlRefusedError` for a URL the
 * policy refuses, and with a retryable `DeliveryError` when the name cannot be resolved right now.
 */
export async function resolveWebhookTarget(
  url: string | URL,
  policy: WebhookUrlPolicy = {},
): Promise<WebhookTarget> {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new WebhookUrlRefusedError({ url: String(url), reason: 'not a valid URL' });
  }
  const refuse = (reason: string): never => {
    throw new WebhookUrlRefusedError({ url: parsed, reason });
  };
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    refuse(`the ${parsed.protocol} scheme is not allowed; use http or https`);
  }
  if (parsed.username !== '' || parsed.password !== '') refuse('credentials in the URL are not allowed');
  const hostname = stripBrackets(parsed.hostname).toLowerCase();
  if (policy.allowedWebhookHosts !== undefined && !isAllowedHost(hostname, policy.allowedWebhookHosts)) {
    refuse(`host ${hostname} is not in allowedWebhookHosts`);
  }

  let addresses: ResolvedAddress[];
  const literal = isIP(hostname);
  if (literal !== 0) {
    addresses = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await (policy.dnsLookup ?? systemDnsLookup)(hostname);
    } catch (cause) {
      throw new DeliveryError({ message: `Could not resolve ${hostname}: ${describeError(cause)}`, cause });
    }
    if (addresses.length === 0) throw new DeliveryError({ message: `${hostname} resolved to no address` });
  }

  const allowPrivate = policy.allowPrivateNetworks ?? false;
  // Every address must pass: a name that resolves to one public and one private address must not get
  // through by the luck of which one the connection picks.
  for (const { address } of addresses) {
    const addressClass = classifyAddress(address);
    if (isAllowedClass(addressClass, allowPrivate)) continue;
    const via = literal !== 0 ? '' : ` resolves to ${address} and`;
    if (addressClass === 'invalid') refuse(`${hostname}${via} is not a valid address`);
    if (NEVER_ALLOWED.has(addressClass as AddressClass)) {
      refuse(`${hostname}${via} is a ${addressClass} address, which is never allowed`);
    }
    refuse(`${hostname}${via} is a ${addressClass} address; set allowPrivateNetworks to allow it`);
  }
  return { url: parsed, hostname, addresses };
}

function isAllowedHost(hostname: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => {
    const pattern = stripBrackets(entry.trim().toLowerCase());
    if (pattern.startsWith('*.'))
      return hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1;
    return hostname === pattern;
  });
}

/**
 * A `lookup` for node:net / node:http that answers with an address the guard validated, whatever DNS
 * says now: this is what closes the window between the check and the connection (DNS rebinding).
 */
export function pinnedLookup(target: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}
