import { describe, expect, it } from 'vitest';
import {
  classifyAddress,
  isAllowedClass,
  pinnedLookup,
  type ResolvedAddress,
  resolveWebhookTarget,
  type WebhookDnsLookup,
  WebhookUrlRefusedError,
} from './webhook-url-guard.js';

/** A resolver that answers from a table and never touches the network. */
function stubDns(table: Record<string, string[]>): WebhookDnsLookup {
  return async (hostname) => {
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

describe('address classification', () => {
  it.each([
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['172.32.0.1', 'public'],
    ['8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['[::1]', 'loopback'],
    // IPv4 carried in IPv6 is what it carries.
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['2002:a00:1::1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:0:a9fe:a9fe', 'metadata'], // IPv4-translated (RFC 6145)
    ['64:ff9b::8.8.8.8', 'public'],
    ['64:ff9b::10.0.0.1', 'private'],
    // The ranges the hand-written table missed.
    ['64:ff9b:1::a9fe:a9fe', 'tunnel'], // local-use NAT64 (RFC 8215): where the IPv4 sits is the operator's
    ['64:ff9b:1:ffff::1', 'tunnel'],
    ['2001::1', 'tunnel'], // Teredo
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'tunnel'],
    ['::ffff:0:0', 'unspecified'], // IPv4-mapped, checked by its IPv4 address
    ['::ffff:192.168.0.1', 'private'],
    ['::ffff:100.64.0.1', 'private'],
    ['::ffff:224.0.0.1', 'multicast'],
    ['::ffff:255.255.255.255', 'reserved'],
    // Ranges ipaddr.js names that the table did not.
    ['::10.0.0.1', 'private'], // deprecated IPv4-compatible form
    ['::a00:1', 'private'], // the same, as a URL spells it
    ['100::1', 'reserved'], // discard-only
    ['2001:2::1', 'reserved'], // benchmarking
    ['2001:db8::1', 'reserved'], // documentation
    ['3fff::1', 'reserved'], // documentation
    ['fec0::1', 'private'], // deprecated site-local
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['not-an-ip', 'invalid'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('lets private classes through only when allowed, and never metadata or link-local', () => {
    expect(isAllowedClass('private', false)).toBe(false);
    expect(isAllowedClass('loopback', true)).toBe(true);
    expect(isAllowedClass('unspecified', true)).toBe(true);
    expect(isAllowedClass('metadata', true)).toBe(false);
    expect(isAllowedClass('link-local', true)).toBe(false);
    expect(isAllowedClass('public', false)).toBe(true);
  });
});

describe('resolveWebhookTarget', () => {
  const dnsLookup = stubDns({
    'hooks.example.com': ['93.184.216.34'],
    'both.example.com': ['93.184.216.34', '10.0.0.7'],
    'internal.example.com': ['10.0.0.7'],
    'metadata.example.com': ['169.254.169.254'],
    'v6meta.example.com': ['fd00:ec2::254'],
    'empty.example.com': [],
  });

  async function refusal(url: string, policy = {}): Promise<WebhookUrlRefusedError> {
    const error = await resolveWebhookTarget(url, { dnsLookup, ...policy }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(WebhookUrlRefusedError);
    return error as WebhookUrlRefusedError;
  }

  it('accepts a public host and returns every address it resolved to', async () => {
    const target = await resolveWebhookTarget('https://hooks.example.com/mcp?token=x', { dnsLookup });
    expect(target.hostname).toBe('hooks.example.com');
    expect(target.addresses).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });

  it('refuses cloud metadata and link-local addresses even with allowPrivateNetworks', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://100.100.100.200/',
      'http://[fe80::1]/',
      'http://metadata.example.com/',
      'http://v6meta.example.com/',
      'http://[::ffff:169.254.169.254]/',
    ]) {
      const error = await refusal(url, { allowPrivateNetworks: true });
      expect(error.reason).toMatch(/never allowed/);
      expect(error.isRetryable).toBe(false);
    }
  });

  it('refuses private and loopback addresses unless allowPrivateNetworks', async () => {
    expect((await refusal('http://10.1.2.3/hook')).reason).toMatch(
      /private address; set allowPrivateNetworks/,
    );
    expect((await refusal('http://127.0.0.1:8080/hook')).reason).toMatch(/loopback/);
    expect((await refusal('http://[::1]/hook')).reason).toMatch(/loopback/);
    expect((await refusal('http://0.0.0.0/hook')).reason).toMatch(/unspecified/);
    expect((await refusal('http://internal.example.com/hook')).reason).toBe(
      'internal.example.com resolves to a private address; set allowPrivateNetworks to allow it',
    );
    const allowed = await resolveWebhookTarget('http://internal.example.com/hook', {
      dnsLookup,
      allowPrivateNetworks: true,
    });
    expect(allowed.addresses[0]?.address).toBe('10.0.0.7');
  });

  it('refuses a name when any one of its addresses is refused', async () => {
    expect((await refusal('http://both.example.com/')).reason).toMatch(/resolves to a private address/);
  });

  it('never says which address a name resolved to', async () => {
    const hidden = stubDns({
      'meta.example.com': ['169.254.169.254'],
      'teredo.example.com': ['2001:0:4136:e378:8000:63bf:3fff:fdd2'],
      'inside.example.com': ['93.184.216.34', '10.9.8.7'],
      'mapped.example.com': ['::ffff:10.9.8.7'],
    });
    for (const [url, reason] of [
      ['http://meta.example.com/', 'meta.example.com resolves to a metadata address, which is never allowed'],
      [
        'http://teredo.example.com/',
        'teredo.example.com resolves to a tunnel address, which is never allowed',
      ],
      [
        'http://inside.example.com/',
        'inside.example.com resolves to a private address; set allowPrivateNetworks to allow it',
      ],
      [
        'http://mapped.example.com/',
        'mapped.example.com resolves to a private address; set allowPrivateNetworks to allow it',
      ],
    ] as const) {
      const error = await resolveWebhookTarget(url, { dnsLookup: hidden }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(WebhookUrlRefusedError);
      expect((error as WebhookUrlRefusedError).reason).toBe(reason);
      expect((error as Error).message).not.toMatch(/169\.254|10\.9\.8\.7|2001:0|ffff/);
    }
  });

  it('refuses the NAT64 local-use, Teredo and IPv4-mapped ranges even with allowPrivateNetworks', async () => {
    for (const [url, reason] of [
      ['http://[64:ff9b:1::a00:1]/', 'is a tunnel address, which is never allowed'],
      ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'is a tunnel address, which is never allowed'],
      ['http://[::ffff:169.254.169.254]/', 'is a metadata address, which is never allowed'],
      ['http://[::ffff:169.254.1.1]/', 'is a link-local address, which is never allowed'],
    ] as const) {
      expect((await refusal(url, { allowPrivateNetworks: true })).reason).toContain(reason);
    }
    expect((await refusal('http://[::ffff:10.0.0.1]/')).reason).toMatch(/private address/);
    await expect(
      resolveWebhookTarget('http://[::ffff:10.0.0.1]/', { allowPrivateNetworks: true }),
    ).resolves.toBeTruthy();
    await expect(resolveWebhookTarget('http://[64:ff9b::808:808]/')).resolves.toBeTruthy();
  });

  it('refuses other schemes, credentials, and hosts outside allowedWebhookHosts', async () => {
    expect((await refusal('ftp://hooks.example.com/')).reason).toMatch(/scheme/);
    expect((await refusal('file:///etc/passwd')).reason).toMatch(/scheme/);
    expect((await refusal('http://user:pw@hooks.example.com/')).reason).toMatch(/credentials/);
    expect((await refusal('not a url')).reason).toMatch(/not a valid URL/);
    const policy = { allowedWebhookHosts: ['*.example.com', 'exact.test'] };
    expect((await refusal('http://evil.test/', policy)).reason).toMatch(/allowedWebhookHosts/);
    expect((await refusal('http://example.com/', policy)).reason).toMatch(/allowedWebhookHosts/);
    await expect(
      resolveWebhookTarget('http://hooks.example.com/', { dnsLookup, ...policy }),
    ).resolves.toBeTruthy();
    // The allow-list does not lift the address checks.
    expect((await refusal('http://internal.example.com/', policy)).reason).toMatch(/private/);
  });

  it('reports a name that does not resolve as a retryable delivery failure', async () => {
    for (const url of ['http://nowhere.example.com/', 'http://empty.example.com/']) {
      const error = await resolveWebhookTarget(url, { dnsLookup }).catch((caught: unknown) => caught);
      expect(error).not.toBeInstanceOf(WebhookUrlRefusedError);
      expect(error).toMatchObject({ isRetryable: true });
    }
  });

  it('pins connections to the validated address, whatever the host name', () => {
    const lookup = pinnedLookup({ address: '10.0.0.7', family: 4 });
    const single: unknown[] = [];
    lookup('rebound.example.com', {}, (...args) => single.push(...args));
    expect(single).toEqual([null, '10.0.0.7', 4]);
    const all: unknown[] = [];
    lookup('rebound.example.com', { all: true }, (...args) => all.push(...args));
    expect(all).toEqual([null, [{ address: '10.0.0.7', family: 4 }]]);
  });
});
