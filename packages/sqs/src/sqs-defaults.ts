/**
 * What an SQS worker starts from when its options leave these out: `SqsSessionManagerOptions` documents
 * them with `@default`, and `asyncmcp-proxy serve` reads them from here for its settings.
 */
export const SQS_WORKER_DEFAULTS = {
  /** How often a running request's client hears that its worker is alive (with an inbox). */
  aliveIntervalSeconds: 3,
  /** Receives of a request for a session another worker holds handed back to the queue: none (one reader). */
  releaseUnknownSessions: 0,
} as const;
