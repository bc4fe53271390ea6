import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { DeliveryError, describeError } from '@asyncmcp/core';
import ipaddr from 'ipaddr.js';
import { redactUrl } from './webhook-http.js';

/**
 * The SSRF guard of PROTOCOL.md §3: a webhook URL comes from a client, so before the server POSTs to it
 * the host is resolved and every address it resolves to is classified, by the ranges `ipaddr.js` knows.
 * Cloud-metadata, link-local, multicast, reserved and tunnel addresses are refused always; private,
 * loopback and unspecified ones unless the server allows private networks. The caller then connects to an address it validated here (see
 * `pinnedLookup`), so a DNS answer that changes between the check and the connection cannot redirect it.
 */

export type AddressClass =
  | 'metadata'
  | 'link-local'
  | 'multicast'
  | 'reserved'
  /** IPv6 that tunnels or translates to an IPv4 address the guard cannot check (Teredo, local-use NAT64). */
  | 'tunnel'
  | 'loopback'
  | 'unspecified'
  | 'private'
  | 'public';

const NEVER_ALLOWED: ReadonlySet<AddressClass> = new Set([
  'metadata',
  'link-local',
  'multicast',
  'reserved',
  'tunnel',
]);
const PRIVATE: ReadonlySet<AddressClass> = new Set(['loopback', 'unspecified', 'private']);

// Cloud metadata services are single addresses, not ranges, so no IP library names them.
const METADATA_ADDRESSES: ReadonlySet<string> = new Set(
  [
    '169.254.169.254', // AWS, GCP, Azure, OpenStack …
    '169.254.170.2', // AWS ECS task metadata
    '100.100.100.200', // Alibaba Cloud
    '168.63.129.16', // Azure wire server (a public address, so named here)
    '192.0.0.192', // Oracle Cloud
    'fd00:ec2::254', // AWS IMDS over IPv6
  ].map((address) => ipaddr.parse(address).toNormalizedString()),
);

/**
 * The class of each range `ipaddr.js` names (its `range()`). A name missing here — one a later version
 * of the library adds — is treated as reserved: an unknown special range is refused, not let through.
 */
const RANGE_CLASSES: Readonly<Record<string, AddressClass>> = {
  unicast: 'public',
  unspecified: 'unspecified',
  loopback: 'loopback',
  private: 'private',
  carrierGradeNat: 'private', // often a provider's internal network
  uniqueLocal: 'private',
  deprecatedSiteLocal: 'private',
  linkLocal: 'link-local',
  multicast: 'multicast',
  broadcast: 'reserved',
  teredo: 'tunnel',
  rfc6052: 'tunnel', // NAT64 other than the well-known prefix, whose IPv4 address is checked instead
};

// NAT64's well-known prefix carries the IPv4 address in its last 32 bits (RFC 6052); the local-use
// prefix 64:ff9b:1::/48 (RFC 8215) may carry it anywhere, so only the well-known one can be checked.
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');
// The deprecated IPv4-compatible form `::a.b.c.d` (RFC 4291), which no library range names (ipaddr.js
// reads its dotted spelling as IPv4-mapped, its hex spelling as unicast).
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/**
 * Classifies one literal IPv4 or IPv6 address. IPv6 that carries an IPv4 address a connection can reach
 * (IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64's well-known prefix, 6to4) is classified as
 * that IPv4 address.
 */
export function classifyAddress(address: string): AddressClass | 'invalid' {
  const bare = stripBrackets(address).split('%')[0] ?? '';
  // node:net decides what is an address: ipaddr.js also accepts forms like `0x7f.1` no resolver returns.
  if (isIP(bare) === 0) return 'invalid';
  return classifyParsed(ipaddr.parse(bare));
}

function classifyParsed(parsed: ipaddr.IPv4 | ipaddr.IPv6): AddressClass {
  if (METADATA_ADDRESSES.has(parsed.toNormalizedString())) return 'metadata';
  if (parsed.kind() === 'ipv4') return RANGE_CLASSES[parsed.range()] ?? 'reserved';
  const v6 = parsed as ipaddr.IPv6;
  const range: string = v6.range();
  const embedded = embeddedIpv4(v6, range);
  if (embedded !== undefined) return classifyParsed(embedded);
  return RANGE_CLASSES[range] ?? 'reserved';
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

/** The IPv4 address an IPv6 address of one of the carrying ranges reaches, if it is one. */
function embeddedIpv4(address: ipaddr.IPv6, range: string): ipaddr.IPv4 | undefined {
  const words = address.parts;
  const v4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  switch (range) {
    case 'ipv4Mapped':
      return address.toIPv4Address();
    case 'rfc6145': // IPv4-translated, ::ffff:0:a.b.c.d
      return v4(words[6] as number, words[7] as number);
    case 'rfc6052':
      return address.match(NAT64_WELL_KNOWN) ? v4(words[6] as number, words[7] as number) : undefined;
    case '6to4':
      return v4(words[1] as number, words[2] as number);
    case 'unicast':
      return address.match(IPV4_COMPATIBLE) ? v4(words[6] as number, words[7] as number) : undefined;
    default:
      return undefined;
  }
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
  // through by the luck of which one the connection picks. The refusal names the class, never the
  // address a name resolved to: the reason reaches the client, who must not learn the inside network.
  for (const { address } of addresses) {
    const addressClass = classifyAddress(address);
    if (isAllowedClass(addressClass, allowPrivate)) continue;
    const what = literal !== 0 ? `${hostname} is` : `${hostname} resolves to`;
    if (addressClass === 'invalid') refuse(`${what} an invalid address`);
    const described = describeClass(addressClass as AddressClass);
    if (NEVER_ALLOWED.has(addressClass as AddressClass))
      refuse(`${what} ${described}, which is never allowed`);
    refuse(`${what} ${described}; set allowPrivateNetworks to allow it`);
  }
  return { url: parsed, hostname, addresses };
}

function describeClass(addressClass: AddressClass): string {
  return addressClass === 'tunnel' ? 'a tunnel address' : `a ${addressClass} address`;
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
