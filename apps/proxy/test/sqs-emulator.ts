import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type FauxqsServer, startFauxqs } from 'fauxqs';

/** The fauxqs SQS emulator on a free port, reached through the real AWS SDK client. One per test file. */
export interface SqsEmulator {
  readonly endpoint: string;
  readonly sqsClient: SQSClient;
  /** Creates a queue with a unique name starting with `prefix` and returns its URL. */
  createQueue(prefix: string): Promise<string>;
  /** URLs of the queues that exist now. */
  queueUrls(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startSqsEmulator(): Promise<SqsEmulator> {
  const server: FauxqsServer = await startFauxqs({ port: 0, logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const sqsClient = new SQSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return {
    endpoint,
    sqsClient,
    async createQueue(prefix) {
      const name = `${prefix}-${randomUUID().slice(0, 8)}`;
      const created = await sqsClient.send(new CreateQueueCommand({ QueueName: name }));
      if (!created.QueueUrl) throw new Error(`no URL for queue ${name}`);
      return created.QueueUrl;
    },
    async queueUrls() {
      return (await sqsClient.send(new ListQueuesCommand({}))).QueueUrls ?? [];
    },
    async stop() {
      sqsClient.destroy();
      await server.stop();
    },
  };
}
