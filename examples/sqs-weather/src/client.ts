import { SQSClient } from '@aws-sdk/client-sqs';
import { askForecast } from './weather-client.js';

// REQUEST_QUEUE_URL: the server's queue; RESPONSE_QUEUE_URL: this client's own queue.
const requestQueueUrl = process.env.REQUEST_QUEUE_URL;
const responseQueueUrl = process.env.RESPONSE_QUEUE_URL;
if (!requestQueueUrl || !responseQueueUrl) {
  console.error('Set REQUEST_QUEUE_URL and RESPONSE_QUEUE_URL.');
  process.exit(2);
}
const sqsClient = new SQSClient({});
const { sessionId, answer } = await askForecast({
  sqsClient,
  requestQueueUrl,
  responseQueueUrl,
  city: process.argv[2] ?? 'Lisbon',
});
console.log(`session ${sessionId}: ${answer}`);
sqsClient.destroy();
