import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { countingSqsClient } from './counting-sqs-client.js';
import type { PathResult } from './measure-path.js';
import { child, log, queue, SEQUENTIAL, WARMUP } from './run-context.js';
import { summarize, timeSequential } from './stats.js';

export async function rawFloor(endpoint: string, admin: SQSClient): Promise<PathResult> {
  log('• raw-floor');
  const requestQueueUrl = await queue(admin, 'raw-req');
  const responseQueueUrl = await queue(admin, 'raw-resp');
  const responder = await child('./child-raw-responder.ts', {
    BENCH_ENDPOINT: endpoint,
    BENCH_REQUEST_QUEUE_URL: requestQueueUrl,
    BENCH_RESPONSE_QUEUE_URL: responseQueueUrl,
  });
  const { client } = countingSqsClient(endpoint);
  const roundTrip = async (index: number) => {
    await client.send(new SendMessageCommand({ QueueUrl: requestQueueUrl, MessageBody: `{"n":${index}}` }));
    for (;;) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: responseQueueUrl,
          WaitTimeSeconds: 20,
          MaxNumberOfMessages: 1,
        }),
      );
      const message = Messages[0];
      if (!message) continue;
      await client.send(
        new DeleteMessageCommand({ QueueUrl: responseQueueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      return;
    }
  };
  await timeSequential(WARMUP, roundTrip);
  const latency = summarize(await timeSequential(SEQUENTIAL, roundTrip));
  await responder.stop();
  return { name: 'raw-floor', latency };
}

/** One POST round trip with fetch (what the SDK client sends with) to a bare Node echo server. */
export async function httpFloor(): Promise<PathResult> {
  log('• http-floor');
  const echoServer = await child<{ url: string }>('./child-http-echo.ts');
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } });
  const roundTrip = async () => {
    const response = await fetch(echoServer.info.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await response.text();
  };
  await timeSequential(WARMUP, roundTrip);
  const latency = summarize(await timeSequential(SEQUENTIAL, roundTrip));
  await echoServer.stop();
  return { name: 'http-floor', latency };
}
