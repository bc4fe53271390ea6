import type { BackoffOptions } from './backoff.js';

/**
 * How a long-poll loop reads its queue: the options every queue-reading transport, session manager and
 * backend takes, documented once here.
 */
export interface QueuePollingOptions {
  /** Long-poll wait of one receive. @default 20 */
  waitTimeSeconds?: number;
  /** Most messages one receive takes. @default 10 */
  maxMessages?: number;
  /**
   * Visibility of a received message; a message still being handled is extended by this much every half
   * of it. @default QUEUE_DEFAULTS.visibilityTimeoutSeconds (10)
   */
  visibilityTimeoutSeconds?: number;
  /** Delays between receive attempts after errors. @default RECEIVE_ERROR_BACKOFF (200 ms … 1 s) */
  receiveErrorBackoff?: BackoffOptions;
}

/**
 * Just the polling options of a larger options object, so they can be handed on (to a `QueueConsumer`,
 * or to the backend a package builds on) without copying each by name.
 */
export function pickQueuePolling(options: QueuePollingOptions): QueuePollingOptions {
  return {
    waitTimeSeconds: options.waitTimeSeconds,
    maxMessages: options.maxMessages,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    receiveErrorBackoff: options.receiveErrorBackoff,
  };
}
