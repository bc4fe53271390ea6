import { SNSClient } from '@aws-sdk/client-sns';
import { countingSqsClient } from './counting-sqs-client.js';

/** The SNS and SQS clients of one bench process, pointed at the emulator; SQS calls are counted. */
export function awsClients(endpoint: string) {
  const { client: sqsClient, counts, receiveTimes } = countingSqsClient(endpoint);
  const snsClient = new SNSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  return { sqsClient, snsClient, counts, receiveTimes };
}
