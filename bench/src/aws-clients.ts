import { AWS_CLIENT_DEFAULTS } from '@asyncmcp/sqs';
import { SNSClient } from '@aws-sdk/client-sns';
import { countApiRequests, countingSqsClient } from './counting-sqs-client.js';

/** The SNS and SQS clients of one bench process, pointed at the emulator; the API requests of both are counted together. */
export function awsClients(endpoint: string) {
  const { client: sqsClient, counts, receiveTimes } = countingSqsClient(endpoint);
  const snsClient = new SNSClient({
    ...AWS_CLIENT_DEFAULTS,
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  countApiRequests(snsClient, counts, receiveTimes);
  return { sqsClient, snsClient, counts, receiveTimes };
}
