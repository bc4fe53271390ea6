import { silentLogger } from '@asyncmcp/core';
import { createProxyServer } from '@asyncmcp/proxy';
import { snsSqsBackend } from '@asyncmcp/sns-sqs';
import { sqsBackend } from '@asyncmcp/sqs';
import { awsClients } from './aws-clients.js';
import { ready } from './child-process.js';
import { startControl } from './control-server.js';

const { sqsClient, snsClient, counts } = awsClients(process.env.BENCH_ENDPOINT as string);
const backend =
  process.env.BENCH_BACKEND === 'sns-sqs'
    ? snsSqsBackend({ snsClient, sqsClient, requestTopicArn: process.env.BENCH_REQUEST_TOPIC_ARN as string })
    : sqsBackend({ sqsClient, requestQueueUrl: process.env.BENCH_REQUEST_QUEUE_URL as string });
const proxy = createProxyServer({
  backend,
  port: 0,
  logger: silentLogger,
  maxSessions: 100_000,
  sessionIdleTimeoutMs: 3_600_000,
});
const { url } = await proxy.listen();
const control = await startControl(() => ({
  calls: counts,
  sessions: proxy.sessionIds().length,
  ...backend.stats,
}));
ready({ url, control });
process.once('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
