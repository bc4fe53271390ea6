export { type AwsCall, commandNamesOf, watchCalls } from './aws-calls.js';
export { type Cleanup, cleanupsAfterEach, destroyAfterTest, started } from './cleanups.js';
export { type InitializeRequestOptions, initializeRequest } from './initialize-request.js';
export {
  DOCUMENTED_NGINX_CONFIG,
  deriveNginxServers,
  findNginx,
  type LoadBalancer,
  type LoadBalancerOptions,
  startLoadBalancer,
} from './load-balancer.js';
export { textOf } from './mcp-results.js';
export { freeLoopbackPort } from './ports.js';
export * from './python-wire.js';
export { type QueueDecoding, QueueReader, rpcOf, SqsQueueReader } from './queue-reader.js';
export { useQueueTestBed } from './queue-test-bed.js';
export {
  ECHO_ONCE_REQUEST,
  expectUnknownSessionRejected,
  GONE_SESSION_ID,
  sendLateNotification,
  UNKNOWN_SESSION_ID,
  UNKNOWN_SESSION_REQUEST,
} from './routing-scenarios.js';
export { connectedClient, echoFromEach, echoText, REQUEST_TIMEOUT_MS } from './sdk-client.js';
export {
  type QueueInspection,
  resolveLocalhostNames,
  type SqsEmulator,
  startSqsEmulator,
  useSqsEmulator,
} from './sqs-emulator.js';
export { WAIT_MS, within } from './within.js';
