export { createProxyServer, type ProxyServer, type ProxyServerOptions } from './create-proxy-server.js';
export { childLogger, createDefaultLogger } from './default-logger.js';
export { BoundedEventStore, type BoundedEventStoreOptions, EventStoreBudget } from './event-store.js';
export { createLimitedHttpServer, type ProxyHttpLimits, resolveHttpLimits } from './http-limits.js';
export { PROXY_DEFAULTS, SERVE_DEFAULTS } from './proxy-defaults.js';
export { MCP_REQUEST_METHODS, methodLabel, ProxyMetrics } from './proxy-metrics.js';
export { type ProxyStdioOptions, proxyStdio } from './proxy-stdio.js';
export { bearerAuth, isLoopbackHost, originValidation } from './security.js';
export { type BridgeObserver, SessionBridge, type SessionBridgeOptions } from './session-bridge.js';
export {
  createHttpUpstreamFactory,
  createStdioServerFactory,
  type HttpUpstreamOptions,
  type StdioServerFactoryOptions,
  type UpstreamServerOptions,
} from './upstream-server.js';
