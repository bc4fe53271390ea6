import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type FleetClient, FleetSessionIds, MAX_FLEET_CLIENT_PART } from './fleet-session-ids.js';
import { isValidSessionId } from './session-id.js';

const SECRET = randomBytes(32).toString('base64');

/**
 * For a fleet without a secret and one with: what `derive` makes of a fresh key, once checked that a
 * second instance of the fleet makes the same of it and that another key makes something else.
 */
function derivedAlike(derive: (ids: FleetSessionIds, key: string) => string) {
  return [undefined, SECRET].map((secret) => {
    const ids = new FleetSessionIds({ secret });
    const key = ids.mint();
    const derived = derive(ids, key);
    expect(derive(new FleetSessionIds({ secret }), key)).toBe(derived);
    expect(derive(ids, ids.mint())).not.toBe(derived);
    return { ids, key, derived };
  });
}

describe('FleetSessionIds', () => {
  it('derives the queue session id as every earlier version did, so mixed instances of a fleet agree', () => {
    const ids = new FleetSessionIds();
    const key = ids.mint();
    const earlier = createHmac('sha256', Buffer.from('asyncmcp/queue-session'))
      .update(key)
      .digest('hex')
      .slice(0, 32);
    expect(ids.queueSessionIdOf(key)).toBe(earlier);
  });

  it('without a secret: 32 random hex characters, adoptable by any instance, never repeated', () => {
    const a = new FleetSessionIds();
    const b = new FleetSessionIds();
    const keys = new Set(Array.from({ length: 100 }, () => a.mint()));
    expect(keys.size).toBe(100);
    for (const key of keys) {
      expect(key).toMatch(/^[0-9a-f]{32}$/);
      expect(b.mayAdopt(key)).toBe(true);
    }
    for (const bad of [
      '',
      'ABCDEF0123456789abcdef0123456789',
      'x'.repeat(32),
      `${a.mint()}0`,
      a.mint().slice(1),
    ]) {
      expect(b.mayAdopt(bad)).toBe(false);
    }
  });

  it('with a secret: keys carry a tag that only the fleet can make', () => {
    const a = new FleetSessionIds({ secret: SECRET });
    const b = new FleetSessionIds({ secret: SECRET });
    const stranger = new FleetSessionIds({ secret: randomBytes(32).toString('base64') });
    const key = a.mint();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(b.mayAdopt(key)).toBe(true);
    expect(stranger.mayAdopt(key)).toBe(false);
    expect(b.mayAdopt(stranger.mint())).toBe(false);
    // A key of the untagged form, or one with its tag changed, is not the fleet's.
    expect(b.mayAdopt(new FleetSessionIds().mint())).toBe(false);
    const flipped = `${key.slice(0, 63)}${key.at(-1) === '0' ? '1' : '0'}`;
    expect(b.mayAdopt(flipped)).toBe(false);
  });

  it("carries the initialize's client in the key, for any instance to read back", () => {
    const client: FleetClient = {
      capabilities: { elicitation: {}, roots: { listChanged: true } },
      clientInfo: { name: 'claude-code', version: '2.1.0', title: 'Claude Code' },
    };
    for (const secret of [undefined, SECRET]) {
      const a = new FleetSessionIds({ secret });
      const b = new FleetSessionIds({ secret });
      const key = a.mint(client);
      expect(key).toMatch(
        secret === undefined
          ? /^[0-9a-f]{32}\.[A-Za-z0-9_-]+$/
          : /^[0-9a-f]{32}\.[A-Za-z0-9_-]+\.[0-9a-f]{32}$/,
      );
      expect(b.mayAdopt(key)).toBe(true);
      expect(b.clientOf(key)).toEqual(client);
      // A key without a client names none; another fleet's form is not read.
      expect(b.clientOf(a.mint())).toBeUndefined();
      expect(new FleetSessionIds({ secret: secret === undefined ? SECRET : undefined }).clientOf(key)).toBe(
        undefined,
      );
    }
  });

  it('refuses a client part changed under a tag, and reads none that is not a client', () => {
    const ids = new FleetSessionIds({ secret: SECRET });
    const key = ids.mint({ capabilities: {}, clientInfo: { name: 'honest', version: '1' } });
    const [random, , tag] = key.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify([{ sampling: {} }, { name: 'forged', version: '1' }])).toString(
      'base64url',
    );
    const tampered = `${random}.${forged}.${tag}`;
    expect(ids.mayAdopt(tampered)).toBe(false);
    expect(ids.clientOf(tampered)).toBeUndefined();
    // Without a secret any well-formed key may be adopted, but a part that is not a client is not read.
    const open = new FleetSessionIds();
    for (const part of ['bm90IGpzb24', Buffer.from('[1,2]').toString('base64url')]) {
      const odd = `${random}.${part}`;
      expect(open.mayAdopt(odd)).toBe(true);
      expect(open.clientOf(odd)).toBeUndefined();
    }
    expect(open.mayAdopt(`${random}.`)).toBe(false);
    expect(open.mayAdopt(`${random}.${'A'.repeat(MAX_FLEET_CLIENT_PART + 1)}`)).toBe(false);
  });

  it('leaves out a client too long for a key', () => {
    const ids = new FleetSessionIds({ secret: SECRET });
    const key = ids.mint({ capabilities: {}, clientInfo: { name: 'x'.repeat(400), version: '1' } });
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(ids.mayAdopt(key)).toBe(true);
    expect(ids.clientOf(key)).toBeUndefined();
  });

  it('derives the same queue session id on every instance, which does not contain the key', () => {
    for (const { key, derived: queueId } of derivedAlike((ids, key) => ids.queueSessionIdOf(key))) {
      expect(isValidSessionId(queueId)).toBe(true);
      expect(queueId).toMatch(/^[0-9a-f]{32}$/);
      expect(key).not.toContain(queueId);
      expect(queueId).not.toBe(key.slice(0, 32));
    }
    // Keyed by the secret: a fleet with another secret names the same key differently.
    const key = new FleetSessionIds().mint();
    expect(new FleetSessionIds({ secret: SECRET }).queueSessionIdOf(key)).not.toBe(
      new FleetSessionIds().queueSessionIdOf(key),
    );
  });

  it('derives the same webhook route on every instance, unrelated to the key and to the session id', () => {
    for (const { ids, key, derived: route } of derivedAlike((ids, key) => ids.routeOf(key))) {
      expect(route).toMatch(/^[A-Za-z0-9_-]{22}$/);
      // Neither the key nor the session id can be read from the route, nor the route from the session id.
      const sessionId = ids.queueSessionIdOf(key);
      const routeHex = Buffer.from(route, 'base64url').toString('hex');
      expect(routeHex).not.toBe(sessionId);
      expect(key).not.toContain(routeHex);
      expect(route).not.toContain(key.slice(0, 8));
    }
    // Keyed by the secret: another fleet's route for the same key is another path.
    const key = new FleetSessionIds().mint();
    const stranger = new FleetSessionIds({ secret: randomBytes(32).toString('base64') });
    expect(new FleetSessionIds({ secret: SECRET }).routeOf(key)).not.toBe(stranger.routeOf(key));
    expect(new FleetSessionIds({ secret: SECRET }).routeOf(key)).not.toBe(new FleetSessionIds().routeOf(key));
  });
});
