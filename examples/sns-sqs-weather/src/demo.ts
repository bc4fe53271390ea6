import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { askForecast } from './weather-client.js';
import { startWeatherServer } from './weather-server.js';

/**
 * Everything on one machine, no AWS account: a local SNS/SQS emulator; a request topic with the weather
 * server's queue subscribed to it; and a response topic with the client's queue subscribed to it.
 *
 *   client ──publish──▶ weather-requests (topic) ──▶ weather-requests (queue) ──▶ server
 *   client ◀────────── weather-client (queue) ◀── weather-client (topic) ◀──publish── server
 */
export async function runDemo(city: string): Promise<Awaited<ReturnType<typeof askForecast>>> {
  const emulator = await startFauxqs({ port: 0, logger: false });
  const config = {
    region: 'us-east-1',
    endpoint: emulator.address,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const snsClient = new SNSClient(config);
  const sqsClient = new SQSClient(config);
  try {
    const request = await topicWithQueue(snsClient, sqsClient, 'weather-requests');
    const response = await topicWithQueue(snsClient, sqsClient, 'weather-client');
    const manager = await startWeatherServer({ snsClient, sqsClient, requestQueueUrl: request.queueUrl });
    try {
      return await askForecast({
        snsClient,
        sqsClient,
        requestTopicArn: request.topicArn,
        responseTopicArn: response.topicArn,
        responseQueueUrl: response.queueUrl,
        city,
      });
    } finally {
      await manager.close();
    }
  } finally {
    snsClient.destroy();
    sqsClient.destroy();
    await emulator.stop();
  }
}

/**
 * A topic and a queue of the same name, the queue subscribed with raw delivery (the body is the
 * JSON-RPC text itself; leave it off and asyncmcp unwraps SNS envelopes just the same). On AWS the
 * queue also needs a policy that lets the topic send to it; the emulator does not check one.
 */
async function topicWithQueue(snsClient: SNSClient, sqsClient: SQSClient, name: string) {
  const { TopicArn } = await snsClient.send(new CreateTopicCommand({ Name: name }));
  const { QueueUrl } = await sqsClient.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqsClient.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await snsClient.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return { topicArn: TopicArn as string, queueUrl: QueueUrl as string };
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  const { sessionId, tools, answer } = await runDemo(process.argv[2] ?? 'Lisbon');
  console.log(`session:  ${sessionId}`);
  console.log(`tools:    ${tools.join(', ')}`);
  console.log(`forecast: ${answer}`);
}
