export { type Cleanup, cleanupsAfterEach } from './cleanups.js';
export {
  adoptions,
  connectSteered,
  echoText,
  expectEchoes,
  expectMalformedSessionRefused,
  expectSessionToOutliveItsInstance,
  expectUnknownSessionRefused,
  FLEET_MCP_HEADERS,
  type FleetInstance,
  type FleetRoute,
  fleetEchoServer,
  forgedSessionId,
  openSplitSession,
  postUnderSession,
  roundRobin,
} from './gateway-fleet.js';
export {
  DOCUMENTED_NGINX_CONFIG,
  deriveNginxServers,
  findNginx,
  type LoadBalancer,
  type LoadBalancerOptions,
  startLoadBalancer,
} from './load-balancer.js';
export { textOf } from './mcp-results.js';
export * from './python-wire.js';
export { type QueueDecoding, QueueReader, rpcOf, SqsQueueReader } from './queue-reader.js';
export {
  type QueueInspection,
  resolveLocalhostNames,
  type SqsEmulator,
  startSqsEmulator,
  useSqsEmulator,
} from './sqs-emulator.js';
