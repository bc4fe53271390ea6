export * from './backoff.js';
export * from './client-session-state.js';
export * from './clock.js';
export * from './codec.js';
export type * from './contracts.js';
export * from './dedupe-window.js';
export * from './defaults.js';
export type * from './dispatch-contract.js';
export { readAddress, refusedDestination } from './dispatch-rejections.js';
export * from './envelope.js';
export * from './errors.js';
export * from './fleet-session-ids.js';
export * from './in-memory.js';
export * from './jsonrpc-errors.js';
export * from './keyed-serial-queue.js';
export * from './logger.js';
export * from './message-signing.js';
export * from './meta.js';
export * from './missing-address-grace.js';
export * from './pooled-server.js';
export * from './queue-consumer.js';
export * from './queue-polling.js';
export * from './request-correlator.js';
export * from './request-ids.js';
export * from './server-key.js';
export * from './server-pool.js';
export * from './session-control.js';
export * from './session-dispatcher.js';
export * from './session-id.js';
export {
  type LifecycleSession,
  SessionLifecycle,
  type SessionLifecycleOptions,
  type SessionLifecycleStats,
  type SessionLimits,
} from './session-lifecycle.js';
export * from './session-registry.js';
export { SessionTable } from './session-table.js';
export * from './signature.js';
export * from './stateless-dispatcher.js';
export * from './turn-batcher.js';
export * from './verified-queue-source.js';
export * from './wire-ids.js';
