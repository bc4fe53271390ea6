import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectableServer } from './contracts.js';
import { TimeoutError } from './errors.js';
import type { PooledServer } from './pooled-server.js';
import type { ServerKey } from './server-key.js';
import { ServerPool, type ServerPoolOptions } from './server-pool.js';
import { ManualClock } from './testing/manual-clock.js';
import { createTestServer, flush, Gates, PROTOCOL_VERSION, within } from './testing/stateless-harness.js';

function key(name = 'client', capabilities: Record<string, unknown> = {}): ServerKey {
  return { protocolVersion: PROTOCOL_VERSION, capabilities, clientInfo: { name, version: '1.0.0' } };
}

interface PoolHarness {
  pool: ServerPool;
  servers: McpServer[];
  clock: ManualClock;
  closed: PooledServer[];
}

const pools: ServerPool[] = [];

afterEach(async () => {
  for (const pool of pools.splice(0)) await within(pool.close(), 'pool closed');
});

function harness(options: Partial<ServerPoolOptions> = {}): PoolHarness {
  const servers: McpServer[] = [];
  const closed: PooledServer[] = [];
  const clock = new ManualClock();
  const pool = new ServerPool({
    createServer: () => {
      const server = createTestServer(new Gates());
      servers.push(server);
      return server;
    },
    onmessage: async () => {},
    onclose: (server) => closed.push(server),
    clock,
    ...options,
  });
  pools.push(pool);
  return { pool, servers, clock, closed };
}

/** Takes a lease and gives it back at once. */
async function use(pool: ServerPool, serverKey: ServerKey): Promise<PooledServer> {
  const server = await within(pool.acquire(serverKey), 'acquire');
  pool.release(server);
  return server;
}

describe('ServerPool', () => {
  it('initializes a server with the key and keeps its InitializeResult', async () => {
    let initialized = 0;
    const servers: McpServer[] = [];
    const { pool } = harness({
      createServer: () => {
        const server = createTestServer(new Gates());
        server.server.oninitialized = () => {
          initialized++;
        };
        servers.push(server);
        return server;
      },
    });
    const server = await within(pool.acquire(key('alice', { sampling: {} })), 'acquire');
    expect(servers[0]?.server.getClientVersion()).toEqual({ name: 'alice', version: '1.0.0' });
    expect(servers[0]?.server.getClientCapabilities()).toEqual({ sampling: {} });
    expect(server.initializeResult).toMatchObject({
      protocolVersion: PROTOCOL_VERSION,
      serverInfo: { name: 'stateless-test-server' },
    });
    // `notifications/initialized` reached the server before the lease was handed out.
    expect(initialized).toBe(1);
    expect(pool.stats.serversStarted).toBe(1);
  });

  it('shares one server per key (member order aside) and starts one per other key', async () => {
    const { pool, servers } = harness();
    const first = pool.acquire(key('a', { sampling: {}, roots: { listChanged: true } }));
    const second = pool.acquire(key('a', { roots: { listChanged: true }, sampling: {} }));
    const [x, y] = await within(Promise.all([first, second]), 'both');
    expect(x).toBe(y);
    const other = await within(pool.acquire(key('b')), 'other');
    expect(other).not.toBe(x);
    expect(servers).toHaveLength(2);
  });

  it('closes the least recently used idle server to make room at maxServers', async () => {
    const { pool, servers } = harness({ maxServers: 2 });
    const a = await use(pool, key('a'));
    await use(pool, key('b'));
    await use(pool, key('a'));
    await use(pool, key('c'));
    await flush();
    expect(servers.map((server) => server.isConnected())).toEqual([true, false, true]);
    expect(pool.size).toBe(2);
    expect(pool.stats.serversEvicted).toBe(1);
    expect(await use(pool, key('a'))).toBe(a);
  });

  it('goes over maxServers while every server is busy, and closes the extra once idle', async () => {
    const { pool, servers } = harness({ maxServers: 1 });
    const a = await within(pool.acquire(key('a')), 'a');
    const b = await within(pool.acquire(key('b')), 'b');
    expect(pool.size).toBe(2);
    pool.release(b);
    await flush();
    expect(pool.size).toBe(1);
    expect(servers.map((server) => server.isConnected())).toEqual([true, false]);
    pool.release(a);
    expect(pool.size).toBe(1);
  });

  it('closes a server unused for idleTimeoutMs, counting from its last release', async () => {
    const { pool, servers, clock } = harness({ idleTimeoutMs: 1_000 });
    await use(pool, key('a'));
    clock.advance(999);
    const held = await within(pool.acquire(key('a')), 'again');
    clock.advance(5_000);
    expect(servers[0]?.isConnected()).toBe(true);
    pool.release(held);
    clock.advance(999);
    expect(servers[0]?.isConnected()).toBe(true);
    clock.advance(1);
    await flush();
    expect(servers[0]?.isConnected()).toBe(false);
    expect(pool.stats).toMatchObject({ serversIdleClosed: 1, serversCrashed: 0, serversClosed: 1 });
  });

  it('drops a server that closes by itself and starts a new one for its key', async () => {
    const { pool, servers, closed } = harness();
    const first = await within(pool.acquire(key('a')), 'first');
    await servers[0]?.close();
    expect(closed).toEqual([first]);
    expect(pool.stats.serversCrashed).toBe(1);
    expect(pool.size).toBe(0);
    pool.release(first);
    const second = await use(pool, key('a'));
    expect(second).not.toBe(first);
    expect(servers).toHaveLength(2);
  });

  it('rejects the acquire when the factory fails, and tries again on the next', async () => {
    let calls = 0;
    const { pool } = harness({
      createServer: () => {
        calls++;
        if (calls === 1) throw new Error('no server today');
        return createTestServer(new Gates());
      },
    });
    await expect(within(pool.acquire(key('a')), 'failed acquire')).rejects.toThrow('no server today');
    expect(pool.size).toBe(0);
    await use(pool, key('a'));
    expect(calls).toBe(2);
  });

  it('gives up on a server that does not answer initialize within startTimeoutMs', async () => {
    let closes = 0;
    const silent: ConnectableServer = {
      connect: async (transport: Transport) => {
        transport.onmessage = () => {};
      },
      close: async () => {
        closes++;
      },
    };
    const { pool, clock } = harness({ createServer: () => silent, startTimeoutMs: 2_000 });
    const acquired = pool.acquire(key('a'));
    await flush();
    clock.advance(2_000);
    await expect(within(acquired, 'timed out')).rejects.toBeInstanceOf(TimeoutError);
    expect(closes).toBe(1);
    expect(pool.size).toBe(0);
  });

  it('closes every server on close(), and acquires nothing after', async () => {
    const { pool, servers, closed } = harness();
    const busy = await within(pool.acquire(key('a')), 'a');
    await use(pool, key('b'));
    await within(pool.close(), 'close');
    expect(servers.map((server) => server.isConnected())).toEqual([false, false]);
    expect(closed).toContain(busy);
    expect(pool.stats.serversCrashed).toBe(0);
    await expect(pool.acquire(key('a'))).rejects.toThrow(/closed/);
  });
});
