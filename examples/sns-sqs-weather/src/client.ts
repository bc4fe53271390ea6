import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { askForecast } from './weather-client.js';

// REQUEST_TOPIC_ARN: the server's topic; RESPONSE_TOPIC_ARN and RESPONSE_QUEUE_URL: this client's own
// topic and the queue subscribed to it.
const requestTopicArn = process.env.REQUEST_TOPIC_ARN;
const responseTopicArn = process.env.RESPONSE_TOPIC_ARN;
const responseQueueUrl = process.env.RESPONSE_QUEUE_URL;
if (!requestTopicArn || !responseTopicArn || !responseQueueUrl) {
  console.error('Set REQUEST_TOPIC_ARN, RESPONSE_TOPIC_ARN and RESPONSE_QUEUE_URL.');
  process.exit(2);
}
const snsClient = new SNSClient({});
const sqsClient = new SQSClient({});
const { sessionId, answer } = await askForecast({
  snsClient,
  sqsClient,
  requestTopicArn,
  responseTopicArn,
  responseQueueUrl,
  city: process.argv[2] ?? 'Lisbon',
});
console.log(`session ${sessionId}: ${answer}`);
snsClient.destroy();
sqsClient.destroy();
