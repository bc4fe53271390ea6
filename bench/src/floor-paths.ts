import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { countingSqsClient } from './counting-sqs-client.js';
import { connect } from './mcp-calls.js';
import { measurePath, type PathResult } from './measure-path.js';
import { child, log, PATH_SETTINGS, queue, SEQUENTIAL, WARMUP } from './run-context.js';
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

/** A bare Node echo server in a child process, and one POST round trip to it with fetch (what the SDK client sends with). */
export async function startHttpEcho(): Promise<{
  roundTrip: () => Promise<void>;
  stop: () => Promise<void>;
}> {
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
  return { roundTrip, stop: () => echoServer.stop() };
}

/** `http-floor`: the bare HTTP hop alone. */
export async function httpFloor(): Promise<PathResult> {
  log('• http-floor');
  const echo = await startHttpEcho();
  await timeSequential(WARMUP, echo.roundTrip);
  const latency = summarize(await timeSequential(SEQUENTIAL, echo.roundTrip));
  await echo.stop();
  return { name: 'http-floor', latency };
}

/**
 * `front-floor`: the SDK's Streamable HTTP transport alone, its messages answered at once; and
 * `gateway-in-process`: the gateway with a backend that answers in its own process. Between them and
 * `gateway-sqs`, where the gateway's CPU and latency go (bench/README.md, "What bounds the targets").
 */
export async function frontFloors(): Promise<{ frontFloor: PathResult; gatewayInProcess: PathResult }> {
  const open = (url: string) => () => connect(new StreamableHTTPClientTransport(new URL(url)));
  const front = await child<{ url: string; control: string }>('./child-front-floor.ts');
  const frontFloor = await measurePath(PATH_SETTINGS, 'front-floor', open(front.info.url), { server: front });
  await front.stop();
  const gateway = await child<{ url: string; control: string }>('./child-gateway.ts', {
    BENCH_BACKEND: 'in-process',
  });
  const gatewayInProcess = await measurePath(PATH_SETTINGS, 'gateway-in-process', open(gateway.info.url), {
    gateway,
  });
  await gateway.stop();
  return { frontFloor, gatewayInProcess };
}
