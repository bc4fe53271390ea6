import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startWeatherServer } from './weather-server.js';

// Run against real AWS or any emulator: REQUEST_QUEUE_URL (the queue subscribed to the server's request
// topic) is required; AWS_REGION and AWS_ENDPOINT_URL are read by the AWS SDK as usual.
const requestQueueUrl = process.env.REQUEST_QUEUE_URL;
if (!requestQueueUrl) {
  console.error('Set REQUEST_QUEUE_URL to the queue subscribed to the request topic.');
  process.exit(2);
}
const manager = await startWeatherServer({
  snsClient: new SNSClient({}),
  sqsClient: new SQSClient({}),
  requestQueueUrl,
});
console.error(`[server] serving ${requestQueueUrl}; Ctrl-C to stop`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void manager.close().then(() => process.exit(0)));
}
