import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { silentLogger } from '@asyncmcp/core';
import { createProxyServer } from '@asyncmcp/proxy';
import { snsSqsBackend } from '@asyncmcp/sns-sqs';
import { sqsBackend } from '@asyncmcp/sqs';
import { webhookBackend } from '@asyncmcp/webhook';
import { answeringBackend } from './answering-backend.js';
import { awsClients } from './aws-clients.js';
import { ready } from './child-process.js';
import { startControl } from './control-server.js';

const { sqsClient, snsClient, counts, receiveTimes } = awsClients(process.env.BENCH_ENDPOINT as string);
/** A free loopback port: a webhook backend must know its public URL before the gateway listens. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const kind = process.env.BENCH_BACKEND ?? 'sqs';
const port = kind === 'webhook' ? await freePort() : 0;
const backend =
  kind === 'in-process'
    ? answeringBackend()
    : kind === 'sns-sqs'
      ? snsSqsBackend({
          snsClient,
          sqsClient,
          requestTopicArn: process.env.BENCH_REQUEST_TOPIC_ARN as string,
        })
      : kind === 'webhook'
        ? webhookBackend({
            serverUrl: process.env.BENCH_SERVER_URL as string,
            webhookBaseUrl: `http://127.0.0.1:${port}`,
          })
        : sqsBackend({ sqsClient, requestQueueUrl: process.env.BENCH_REQUEST_QUEUE_URL as string });
const proxy = createProxyServer({
  backend,
  port,
  logger: silentLogger,
  maxSessions: Number(process.env.BENCH_MAX_SESSIONS ?? 100_000),
  enableJsonResponse: process.env.BENCH_JSON_RESPONSE === 'true',
  sessionIdleTimeoutMs: 3_600_000,
});
const { url } = await proxy.listen();
const control = await startControl(() => ({
  calls: counts,
  receiveTimes,
  sessions: proxy.sessionIds().length,
  ...backend.stats,
}));
ready({ url, control });
process.once('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
