import { SnsSqsSessionManager } from '@asyncmcp/sns-sqs';
import { SqsSessionManager } from '@asyncmcp/sqs';
import { awsClients } from './aws-clients.js';
import { createBenchServer } from './bench-server.js';
import { ready } from './child-process.js';
import { startControl } from './control-server.js';

// The async MCP server of a path: SQS (answers to each client's queue) or SNS+SQS (to its topic).
const { sqsClient, snsClient, counts, receiveTimes } = awsClients(process.env.BENCH_ENDPOINT as string);
const options = {
  sqsClient,
  requestQueueUrl: process.env.BENCH_REQUEST_QUEUE_URL as string,
  createServer: createBenchServer,
  maxInFlight: 512,
  // The sessions step opens more sessions than a worker's default limit (1,000), and holds them idle.
  ...(process.env.BENCH_MAX_SESSIONS
    ? { maxSessions: Number(process.env.BENCH_MAX_SESSIONS), sessionIdleTimeoutMs: 3_600_000 }
    : {}),
};
const manager =
  process.env.BENCH_BACKEND === 'sns-sqs'
    ? new SnsSqsSessionManager({ ...options, snsClient })
    : new SqsSessionManager(options);
await manager.start();
const control = await startControl(() => ({
  calls: counts,
  receiveTimes,
  sessions: manager.sessions.size,
  ...manager.metrics,
}));
ready({ control });
process.once('SIGTERM', () => void manager.close().then(() => process.exit(0)));
