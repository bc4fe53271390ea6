import { silentLogger } from '@asyncmcp/core';
import { createProxyServer } from '@asyncmcp/proxy';
import { sqsBackend } from '@asyncmcp/sqs';
import { ready } from './child-process.js';
import { startControl } from './control-server.js';
import { countingSqsClient } from './counting-sqs-client.js';

const { client, counts } = countingSqsClient(process.env.BENCH_ENDPOINT as string);
const backend = sqsBackend({ sqsClient: client, requestQueueUrl: process.env.BENCH_REQUEST_QUEUE_URL as string });
const proxy = createProxyServer({
  backend,
  port: 0,
  logger: silentLogger,
  maxSessions: 100_000,
  sessionIdleTimeoutMs: 3_600_000,
});
const { url } = await proxy.listen();
const control = await startControl(() => ({ calls: counts, sessions: proxy.sessionIds().length, ...backend.stats }));
ready({ url, control });
process.once('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
