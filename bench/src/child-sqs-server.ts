import { SqsSessionManager } from '@asyncmcp/sqs';
import { createBenchServer } from './bench-server.js';
import { ready } from './child-process.js';
import { startControl } from './control-server.js';
import { countingSqsClient } from './counting-sqs-client.js';

const { client, counts } = countingSqsClient(process.env.BENCH_ENDPOINT as string);
const manager = new SqsSessionManager({
  sqsClient: client,
  requestQueueUrl: process.env.BENCH_REQUEST_QUEUE_URL as string,
  createServer: createBenchServer,
  maxInFlight: 512,
});
await manager.start();
const control = await startControl(() => ({ calls: counts, sessions: manager.sessions.size, ...manager.metrics }));
ready({ control });
process.once('SIGTERM', () => void manager.close().then(() => process.exit(0)));
