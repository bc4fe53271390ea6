/**
 * `@asyncmcp/core/testing`: the conformance kit every transport and backend runs, and the helpers it is
 * built from. Needs `vitest` (an optional peer dependency) and `zod` (the MCP SDK's peer).
 */
export { type ConformanceObserver, createConformanceServer } from './testing/conformance-server.js';
export {
  type ConformanceCapabilities,
  type ConformanceOptions,
  type ConformanceTarget,
  describeTransportConformance,
} from './testing/describe-transport-conformance.js';
export { ManualClock } from './testing/manual-clock.js';
export { countdown, MessageTap } from './testing/message-tap.js';
export { Recorded } from './testing/recorded.js';
export { type LogEntry, RecordingLogger } from './testing/recording-logger.js';
