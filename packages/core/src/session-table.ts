import { ConfigurationError } from './errors.js';

/**
 * The live sessions of one gateway backend: each under the gateway's key for it, and findable by the
 * other ids a message may name it by (the session id it proposed, the one its server uses, the route its
 * deliveries come to). A backend routes every inbound message through here, so the rules live once: one
 * key opens one session, and removing a session drops exactly its own entries — an id a newer session has
 * taken since stays with that session.
 */
export class SessionTable<S, IdKind extends string = never> {
  readonly #byKey = new Map<string, S>();
  readonly #byId = new Map<IdKind, Map<string, S>>();
  /**
   * The ids each session is findable by, so removing one costs its own ids, not a scan of all: kind,
   * id, kind, id … in one flat list (a gateway holds many sessions; a list of pairs costs one per id).
   */
  readonly #idsOf = new Map<S, Array<IdKind | string>>();

  /** How many sessions are open. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Throws a `ConfigurationError` when a session is open under `key` already. */
  assertVacant(key: string): void {
    if (this.#byKey.has(key)) {
      throw new ConfigurationError(`A session with key ${key} is already open`);
    }
  }

  /** Opens `session` under `key`, findable by each of `ids` given. */
  add(key: string, session: S, ids: Partial<Record<IdKind, string>> = {}): void {
    this.assertVacant(key);
    this.#byKey.set(key, session);
    for (const [kind, id] of Object.entries(ids) as Array<[IdKind, string | undefined]>) {
      if (id !== undefined) this.index(kind, id, session);
    }
  }

  /** Makes `session` findable by one more id, learnt after it opened (the id its server picked). */
  index(kind: IdKind, id: string, session: S): void {
    let ids = this.#byId.get(kind);
    if (!ids) {
      ids = new Map();
      this.#byId.set(kind, ids);
    }
    ids.set(id, session);
    const own = this.#idsOf.get(session);
    if (own) own.push(kind, id);
    else this.#idsOf.set(session, [kind, id]);
  }

  get(key: string): S | undefined {
    return this.#byKey.get(key);
  }

  /** The session an id of this kind names. */
  find(kind: IdKind, id: string): S | undefined {
    return this.#byId.get(kind)?.get(id);
  }

  /** Removes `session` from under `key` and every id; false when `key` holds another session or none. */
  remove(key: string, session: S): boolean {
    if (this.#byKey.get(key) !== session) return false;
    this.#byKey.delete(key);
    const own = this.#idsOf.get(session) ?? [];
    for (let index = 0; index < own.length; index += 2) {
      const ids = this.#byId.get(own[index] as IdKind);
      const id = own[index + 1] as string;
      if (ids?.get(id) === session) ids.delete(id);
    }
    this.#idsOf.delete(session);
    return true;
  }

  values(): IterableIterator<S> {
    return this.#byKey.values();
  }

  /** Closes every session, each on its own (one that fails does not keep the others open), and forgets them. */
  async closeAll(close: (session: S) => Promise<void>): Promise<void> {
    await Promise.allSettled([...this.#byKey.values()].map((session) => close(session)));
    this.#byKey.clear();
    this.#byId.clear();
    this.#idsOf.clear();
  }
}
