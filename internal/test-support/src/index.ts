export { type Cleanup, cleanupsAfterEach } from './cleanups.js';
export { textOf } from './mcp-results.js';
export {
  isCompactJson,
  type Json,
  type JsonRpcSeen,
  nowSeconds,
  PY_SERVER_INFO,
  type PyAttributes,
  type PyAttributeValue,
  pyClientAttributes,
  pyDumps,
  pyInitialize,
  pyInitializeResult,
  pyServerAttributes,
  pyToolCall,
} from './python-wire.js';
export { type QueueDecoding, QueueReader, rpcOf, SqsQueueReader } from './queue-reader.js';
export { type SqsEmulator, startSqsEmulator, useSqsEmulator } from './sqs-emulator.js';
