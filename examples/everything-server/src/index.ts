export {
  type ConformanceCheck,
  type ConformanceCheckStatus,
  ensureNode22,
  runServerConformance,
  type ServerConformanceOptions,
  type ServerConformanceResult,
} from './conformance-runner.js';
export {
  createEverythingServer,
  RED_PIXEL_PNG_BASE64,
  SILENT_WAV_BASE64,
  WATCHED_RESOURCE_URI,
} from './everything-server.js';
export {
  type EverythingHttpServer,
  type EverythingHttpServerOptions,
  startEverythingHttpServer,
} from './http.js';
