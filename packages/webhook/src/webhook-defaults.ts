/**
 * What the webhook session managers and backends start from when their options leave these out; each
 * option documents its value with `@default`, and `asyncmcp-proxy` reads them from here for its settings.
 */
export const WEBHOOK_DEFAULTS = {
  /** The interface `listen()` binds: loopback, so nothing is exposed by accident. */
  host: '127.0.0.1',
  /** The webhook server's endpoint (`WebhookSessionManager`). */
  webhookEndpointPath: '/mcp/request',
  /** The hybrid's Streamable HTTP endpoint (`HybridSessionManager`). */
  hybridEndpointPath: '/mcp',
  /** Where a gateway backend receives webhooks, one path below it per session. */
  webhookPath: '/webhooks',
  /**
   * Longest a hybrid client's `close()` waits for the server to end its session (HTTP DELETE) before it
   * gives up on it and aborts the request: a server that never answers must not hold a client's close.
   */
  closeTimeoutMs: 5_000,
} as const;
