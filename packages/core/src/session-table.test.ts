import { describe, expect, it } from 'vitest';
import { ConfigurationError } from './errors.js';
import { SessionTable } from './session-table.js';

interface Session {
  name: string;
}

describe('SessionTable', () => {
  it('finds a session by its key and by each id it was given, later ones included', () => {
    const table = new SessionTable<Session, 'proposed' | 'server'>();
    const one = { name: 'one' };
    table.add('k1', one, { proposed: 'p1' });
    table.index('server', 's1', one);
    expect(table.get('k1')).toBe(one);
    expect(table.find('proposed', 'p1')).toBe(one);
    expect(table.find('server', 's1')).toBe(one);
    expect(table.find('server', 'p1')).toBeUndefined();
    expect(table.size).toBe(1);
    expect([...table.values()]).toEqual([one]);
  });

  it('opens one session per key', () => {
    const table = new SessionTable<Session>();
    table.add('k1', { name: 'one' });
    expect(() => table.assertVacant('k1')).toThrow(ConfigurationError);
    expect(() => table.add('k1', { name: 'two' })).toThrow('A session with key k1 is already open');
    expect(table.get('k1')?.name).toBe('one');
  });

  it('removes only the session under the key, and leaves an id a newer session has taken', () => {
    const table = new SessionTable<Session, 'route'>();
    const old = { name: 'old' };
    const newer = { name: 'newer' };
    table.add('k1', old, { route: 'r1' });
    table.add('k2', newer, { route: 'r2' });
    table.index('route', 'r1', newer);
    expect(table.remove('k1', newer)).toBe(false);
    expect(table.remove('k1', old)).toBe(true);
    expect(table.remove('k1', old)).toBe(false);
    expect(table.get('k1')).toBeUndefined();
    expect(table.find('route', 'r1')).toBe(newer);
    expect(table.size).toBe(1);
    table.remove('k2', newer);
    expect(table.find('route', 'r1')).toBeUndefined();
    expect(table.find('route', 'r2')).toBeUndefined();
  });

  it('closes every session even when one fails, then is empty', async () => {
    const table = new SessionTable<Session, 'route'>();
    table.add('k1', { name: 'one' }, { route: 'r1' });
    table.add('k2', { name: 'two' }, { route: 'r2' });
    const closed: string[] = [];
    await table.closeAll(async (session) => {
      closed.push(session.name);
      if (session.name === 'one') throw new Error('refused');
    });
    expect(closed).toEqual(['one', 'two']);
    expect(table.size).toBe(0);
    expect(table.find('route', 'r2')).toBeUndefined();
  });
});
