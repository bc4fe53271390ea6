import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ready } from './child-process.js';
import { countingSqsClient } from './counting-sqs-client.js';

// The floor: no MCP at all. Receive a request, send it back on the response queue, delete it.
const { client } = countingSqsClient(process.env.BENCH_ENDPOINT as string);
const requestQueueUrl = process.env.BENCH_REQUEST_QUEUE_URL as string;
const responseQueueUrl = process.env.BENCH_RESPONSE_QUEUE_URL as string;
let running = true;
process.once('SIGTERM', () => {
  running = false;
  process.exit(0);
});
ready({});
while (running) {
  const { Messages = [] } = await client.send(
    new ReceiveMessageCommand({ QueueUrl: requestQueueUrl, WaitTimeSeconds: 20, MaxNumberOfMessages: 10 }),
  );
  if (Messages.length === 0) continue;
  await Promise.all(
    Messages.map((message) =>
      client.send(new SendMessageCommand({ QueueUrl: responseQueueUrl, MessageBody: message.Body ?? '' })),
    ),
  );
  await client.send(
    new DeleteMessageBatchCommand({
      QueueUrl: requestQueueUrl,
      Entries: Messages.map((message, index) => ({
        Id: String(index),
        ReceiptHandle: message.ReceiptHandle ?? '',
      })),
    }),
  );
}
