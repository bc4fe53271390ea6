import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_DEFAULTS } from './defaults.js';
import { AsyncMcpError, SessionError } from './errors.js';
import { SessionRegistry, type SessionRegistryOptions } from './session-registry.js';
import { ManualClock } from './testing/manual-clock.js';
import { thrownBy } from './testing/thrown-by.js';

interface Value {
  name: string;
  busy?: boolean;
}

const registries: SessionRegistry<Value>[] = [];
function registry(options: SessionRegistryOptions<Value> = {}): SessionRegistry<Value> {
  const created = new SessionRegistry<Value>(options);
  registries.push(created);
  return created;
}

afterEach(() => {
  for (const created of registries.splice(0)) created.dispose();
});

describe('SessionRegistry', () => {
  it('adds and gets sessions', () => {
    const sessions = registry();
    const a = { name: 'a' };
    sessions.add('s1', a);
    expect(sessions.get('s1')).toBe(a);
    expect(sessions.get('s2')).toBeUndefined();
    expect(sessions.size).toBe(1);
    expect([...sessions.ids()]).toEqual(['s1']);
    expect([...sessions.entries()]).toEqual([['s1', a]]);
  });

  it('reports live, terminated and unknown status', () => {
    const sessions = registry();
    const a = { name: 'a' };
    sessions.add('s1', a);
    expect(sessions.status('s1')).toEqual({ state: 'live', value: a });
    expect(sessions.status('nope')).toEqual({ state: 'unknown' });
    expect(sessions.remove('s1', 'https://queue/a')).toBe(a);
    const status = sessions.status('s1');
    expect(status.state).toBe('terminated');
    if (status.state === 'terminated') expect(status.tombstone.address).toBe('https://queue/a');
    expect(sessions.get('s1')).toBeUndefined();
    expect(sessions.size).toBe(0);
  });

  it('records when a session ended', () => {
    const time = new ManualClock(5_000);
    const sessions = registry({ now: () => time.now() });
    sessions.add('s1', { name: 'a' });
    time.advance(250);
    sessions.remove('s1');
    const status = sessions.status('s1');
    expect(status.state === 'terminated' && status.tombstone.endedAt).toBe(5_250);
  });

  it('removing an unknown session returns undefined and leaves no tombstone', () => {
    const sessions = registry();
    expect(sessions.remove('ghost')).toBeUndefined();
    expect(sessions.status('ghost')).toEqual({ state: 'unknown' });
  });

  it('re-adding a terminated id makes it live again', () => {
    const sessions = registry();
    sessions.add('s1', { name: 'a' });
    sessions.remove('s1');
    const b = { name: 'b' };
    sessions.add('s1', b);
    expect(sessions.status('s1')).toEqual({ state: 'live', value: b });
  });

  it('refuses a duplicate id', () => {
    const sessions = registry();
    sessions.add('s1', { name: 'a' });
    const error = thrownBy(() => sessions.add('s1', { name: 'b' }));
    expect(error).toBeInstanceOf(SessionError);
    expect(sessions.get('s1')?.name).toBe('a');
  });

  it('enforces maxSessions with a SessionError ASYNCMCP_SESSION_LIMIT', () => {
    const sessions = registry({ maxSessions: 2 });
    expect(sessions.maxSessions).toBe(2);
    sessions.add('s1', { name: 'a' });
    expect(sessions.hasRoom()).toBe(true);
    sessions.add('s2', { name: 'b' });
    expect(sessions.hasRoom()).toBe(false);
    const error = thrownBy(() => sessions.add('s3', { name: 'c' }));
    expect(error).toBeInstanceOf(SessionError);
    expect(AsyncMcpError.isInstance(error) && error.code).toBe('ASYNCMCP_SESSION_LIMIT');
    expect(AsyncMcpError.isInstance(error) && error.isRetryable).toBe(true);
    expect(error instanceof SessionError && error.sessionId).toBe('s3');
    expect(sessions.status('s3')).toEqual({ state: 'unknown' });
    sessions.remove('s1');
    expect(sessions.hasRoom()).toBe(true);
    sessions.add('s3', { name: 'c' });
    expect(sessions.size).toBe(2);
  });

  it('holds SESSION_DEFAULTS.maxSessions by default, and no limit only when asked to', () => {
    const sessions = registry();
    expect(sessions.maxSessions).toBe(SESSION_DEFAULTS.maxSessions);
    for (let i = 0; i < SESSION_DEFAULTS.maxSessions; i++) sessions.add(`s${i}`, { name: String(i) });
    expect(sessions.hasRoom()).toBe(false);
    expect(() => sessions.add('one-more', { name: 'x' })).toThrow(SessionError);

    const unlimited = registry({ maxSessions: Number.POSITIVE_INFINITY });
    for (let i = 0; i < SESSION_DEFAULTS.maxSessions + 1; i++) unlimited.add(`s${i}`, { name: String(i) });
    expect(unlimited.hasRoom()).toBe(true);
  });

  it('evicts sessions idle for SESSION_DEFAULTS.sessionIdleTimeoutMs by default, never only when asked to', () => {
    const time = new ManualClock(0);
    const sessions = registry({ now: () => time.now() });
    const kept = registry({ now: () => time.now(), idleTimeoutMs: Number.POSITIVE_INFINITY });
    sessions.add('s1', { name: 'a' });
    kept.add('s1', { name: 'a' });
    time.advance(SESSION_DEFAULTS.sessionIdleTimeoutMs - 1);
    expect(sessions.sweep()).toEqual([]);
    time.advance(1);
    expect(sessions.sweep()).toEqual(['s1']);
    time.advance(365 * 24 * 3_600_000);
    expect(kept.sweep()).toEqual([]);
    expect(kept.get('s1')?.name).toBe('a');
  });

  it('touch records activity', () => {
    const time = new ManualClock(1_000);
    const sessions = registry({ now: () => time.now() });
    sessions.add('s1', { name: 'a' });
    expect(sessions.lastActivityAt('s1')).toBe(1_000);
    time.advance(500);
    sessions.touch('s1');
    expect(sessions.lastActivityAt('s1')).toBe(1_500);
    sessions.touch('ghost');
    expect(sessions.lastActivityAt('ghost')).toBeUndefined();
  });

  describe('sweep', () => {
    it('evicts sessions idle for the timeout, tombstones them and calls onEvict', () => {
      const time = new ManualClock(10_000);
      const evicted: Array<[string, string]> = [];
      const sessions = registry({
        idleTimeoutMs: 1_000,
        now: () => time.now(),
        onEvict: (id, value) => {
          // Called after it left the registry.
          expect(sessions.get(id)).toBeUndefined();
          evicted.push([id, value.name]);
        },
      });
      sessions.add('old', { name: 'a' });
      time.advance(600);
      sessions.add('young', { name: 'b' });
      time.advance(399);
      expect(sessions.sweep()).toEqual([]);
      time.advance(1);
      expect(sessions.sweep()).toEqual(['old']);
      expect(evicted).toEqual([['old', 'a']]);
      expect(sessions.status('old').state).toBe('terminated');
      expect(sessions.status('young').state).toBe('live');
      time.advance(600);
      expect(sessions.sweep()).toEqual(['young']);
      expect(sessions.size).toBe(0);
    });

    it('touch postpones eviction', () => {
      const time = new ManualClock(10_000);
      const sessions = registry({ idleTimeoutMs: 1_000, now: () => time.now() });
      sessions.add('s1', { name: 'a' });
      time.advance(900);
      sessions.touch('s1');
      time.advance(900);
      expect(sessions.sweep()).toEqual([]);
      time.advance(100);
      expect(sessions.sweep()).toEqual(['s1']);
    });

    it('does not evict a busy session', () => {
      const time = new ManualClock(10_000);
      const busy = { name: 'busy', busy: true };
      const sessions = registry({
        idleTimeoutMs: 100,
        now: () => time.now(),
        isBusy: (value) => value.busy === true,
      });
      sessions.add('s1', busy);
      sessions.add('s2', { name: 'idle' });
      time.advance(10_000);
      expect(sessions.sweep()).toEqual(['s2']);
      expect(sessions.get('s1')).toBe(busy);
      busy.busy = false;
      expect(sessions.sweep()).toEqual(['s1']);
    });

    it('does nothing with an infinite idle timeout', () => {
      const time = new ManualClock(10_000);
      const sessions = registry({ now: () => time.now(), idleTimeoutMs: Number.POSITIVE_INFINITY });
      sessions.add('s1', { name: 'a' });
      time.advance(1e12);
      expect(sessions.sweep()).toEqual([]);
      expect(sessions.size).toBe(1);
    });
  });

  it('bounds the memory of ended sessions, forgetting the oldest', () => {
    const sessions = registry({ terminatedMemory: 2 });
    for (const id of ['a', 'b', 'c']) {
      sessions.add(id, { name: id });
      sessions.remove(id);
    }
    expect(sessions.status('a')).toEqual({ state: 'unknown' });
    expect(sessions.status('b').state).toBe('terminated');
    expect(sessions.status('c').state).toBe('terminated');
  });

  it('remembers up to 10000 ended sessions by default', () => {
    const sessions = registry();
    for (let i = 0; i <= 10_000; i++) {
      sessions.add(`s${i}`, { name: '' });
      sessions.remove(`s${i}`);
    }
    expect(sessions.status('s0')).toEqual({ state: 'unknown' });
    expect(sessions.status('s1').state).toBe('terminated');
    expect(sessions.status('s10000').state).toBe('terminated');
  });

  it('dispose stops the timer but keeps the sessions', () => {
    const sessions = registry({ idleTimeoutMs: 50 });
    sessions.add('s1', { name: 'a' });
    sessions.dispose();
    sessions.dispose(); // idempotent
    expect(sessions.get('s1')?.name).toBe('a');
  });
});
