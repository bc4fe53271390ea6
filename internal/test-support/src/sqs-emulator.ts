import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, type CreateQueueCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { type FauxqsServer, startFauxqs } from 'fauxqs';

/**
 * A real SQS server for tests: the fauxqs emulator on a free loopback port, reached through the real
 * AWS SDK client. Each test file starts its own, so files run in parallel.
 */
export interface SqsEmulator {
  readonly endpoint: string;
  readonly port: number;
  readonly sqsClient: SQSClient;
  /** Creates a queue with a unique name (the prefix says what it is for) and returns its URL. */
  createQueue(prefix: string, attributes?: CreateQueueCommandInput['Attributes']): Promise<string>;
  /** Creates a queue with exactly this name (e.g. again after `restart()`) and returns its URL. */
  createNamedQueue(name: string, attributes?: CreateQueueCommandInput['Attributes']): Promise<string>;
  /** A new client for the same endpoint (e.g. with middleware of its own). */
  newClient(): SQSClient;
  /** Stops the server, keeping the port, so a test can take the endpoint down. */
  stop(): Promise<void>;
  /** Starts it again on the same port; queues are gone and must be made again. */
  restart(): Promise<void>;
}

export async function startSqsEmulator(): Promise<SqsEmulator> {
  let server: FauxqsServer = await startFauxqs({ port: 0, logger: false });
  const port = server.port;
  const endpoint = `http://127.0.0.1:${port}`;
  const newClient = () =>
    new SQSClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  const sqsClient = newClient();
  const createNamedQueue = async (name: string, attributes?: CreateQueueCommandInput['Attributes']) => {
    const created = await sqsClient.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!created.QueueUrl) throw new Error(`no URL for queue ${name}`);
    return created.QueueUrl;
  };
  return {
    endpoint,
    port,
    sqsClient,
    newClient,
    createQueue(prefix, attributes) {
      const fifo = attributes?.FifoQueue === 'true';
      return createNamedQueue(`${prefix}-${randomUUID().slice(0, 8)}${fifo ? '.fifo' : ''}`, attributes);
    },
    createNamedQueue,
    async stop() {
      await server.stop();
    },
    async restart() {
      server = await startFauxqs({ port, logger: false });
    },
  };
}
