import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { askForecast } from './weather-client.js';
import { startWeatherServer } from './weather-server.js';

/**
 * Everything on one machine, no AWS account: a local SQS emulator, the weather server on its request
 * queue, and a client on its own response queue.
 */
export async function runDemo(city: string): Promise<Awaited<ReturnType<typeof askForecast>>> {
  const emulator = await startFauxqs({ port: 0, logger: false });
  const sqsClient = new SQSClient({
    region: 'us-east-1',
    endpoint: emulator.address,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const queue = async (name: string) =>
      (await sqsClient.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
    const requestQueueUrl = await queue('weather-requests');
    const responseQueueUrl = await queue('weather-client-responses');
    const manager = await startWeatherServer({ sqsClient, requestQueueUrl });
    try {
      return await askForecast({ sqsClient, requestQueueUrl, responseQueueUrl, city });
    } finally {
      await manager.close();
    }
  } finally {
    sqsClient.destroy();
    await emulator.stop();
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  const { sessionId, tools, answer } = await runDemo(process.argv[2] ?? 'Lisbon');
  console.log(`session:  ${sessionId}`);
  console.log(`tools:    ${tools.join(', ')}`);
  console.log(`forecast: ${answer}`);
}
