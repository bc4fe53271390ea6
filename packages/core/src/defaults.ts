/**
 * The limits every session manager and the gateway start from, in one place: each package's options
 * document these values with `@default`, and `asyncmcp-proxy` reads them from here for its settings.
 * Finite on purpose: a manager that accepts any number of sessions, keeps them for ever and lets one
 * session run any number of requests is a denial of service waiting for its first careless (or hostile)
 * client. Pass `Infinity` to lift a limit deliberately.
 */
export const SESSION_DEFAULTS = {
  /** Most live sessions of one manager or gateway. */
  maxSessions: 1_000,
  /** A session with no traffic and no running request is closed after this long: 30 minutes. */
  sessionIdleTimeoutMs: 1_800_000,
  /**
   * Most requests one session may have running at once; more get a JSON-RPC error at once. Below a
   * queue consumer's own cap (100 by default), so one session cannot take every slot of a worker.
   */
  maxInFlightPerSession: 32,
  /**
   * How many receives an adoption `ping` (PROTOCOL.md §7b) for a session a worker does not hold may be
   * handed back on a shared request queue before that worker answers `Session not found`: with three
   * workers, the holder misses it 20 times in a row with a chance of (2/3)^20, about 3 in 10,000.
   */
  adoptionHandBacks: 20,
  /**
   * How long sends to an address that took a message before and is now missing (a queue, a topic) are
   * tried again before its owner is taken as gone: a queue service that lost its state comes back
   * without its queues, and each process makes again what it made at its next receive, within about a
   * second. An address never reached fails at once.
   */
  missingAddressGraceMs: 5_000,
} as const;

/** What a queue consumer starts from; `asyncmcp-proxy serve` reads them from here for its settings. */
export const QUEUE_DEFAULTS = {
  /**
   * Visibility of a received message, extended every half of it while the message runs. It is also how
   * long a message stays hidden when its reader died holding it, or when a long poll left open by a
   * reader that died takes it after the reader is gone: the queue service answers that receive to
   * nobody. Short, so a request another reader could serve waits seconds, not half a minute; the
   * heartbeat keeps a long call's message hidden for as long as it runs.
   */
  visibilityTimeoutSeconds: 10,
  /**
   * How long a send may wait for the call to its queue or topic that is out already, to go with the
   * others in the next batch call. Under load, sends gather while a call is out instead of each going in
   * a call of its own (fewer, fuller batch calls); a lone send never waits, and a call that hangs holds
   * the next ones back no longer than this.
   */
  batchWaitMs: 20,
  /**
   * How long a message handed back with `'defer'` stays hidden: the least a queue's visibility takes.
   * Long next to a consumer's turn between receives, so the consumer the message is for gets to it
   * before the ones handing it back, which receive again at once, take it again.
   */
  deferredReleaseSeconds: 1,
} as const;
