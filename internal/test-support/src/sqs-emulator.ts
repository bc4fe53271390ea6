import { randomUUID } from 'node:crypto';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  type CreateQueueCommandInput,
  GetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type FauxqsServer, interceptLocalhostDns, startFauxqs } from 'fauxqs';
import { afterAll, beforeAll } from 'vitest';

/**
 * A real SQS and SNS server for tests: the fauxqs emulator on a free loopback port, reached through the
 * real AWS SDK clients. Each test file starts its own, so files run in parallel.
 */
export interface SqsEmulator {
  readonly endpoint: string;
  readonly port: number;
  readonly sqsClient: SQSClient;
  /** An SNS client for the same endpoint: topics published to here fan out to subscribed queues. */
  readonly snsClient: SNSClient;
  /** Creates a queue with a unique name (the prefix says what it is for) and returns its URL. */
  createQueue(prefix: string, attributes?: CreateQueueCommandInput['Attributes']): Promise<string>;
  /** Creates a queue with exactly this name (e.g. again after `restart()`) and returns its URL. */
  createNamedQueue(name: string, attributes?: CreateQueueCommandInput['Attributes']): Promise<string>;
  /** Creates a topic with a unique name (a `.fifo` one when `FifoTopic` is set) and returns its ARN. */
  createTopic(prefix: string, attributes?: Record<string, string>): Promise<string>;
  /** Creates a topic with exactly this name (e.g. again after `restart()`) and returns its ARN. */
  createNamedTopic(name: string, attributes?: Record<string, string>): Promise<string>;
  /**
   * Subscribes a queue to a topic and returns the subscription ARN. `raw` turns on raw message delivery
   * (the body is the published text, attributes are SQS attributes); otherwise SNS wraps each message in
   * its JSON envelope. `filterPolicy` is matched against message attributes.
   */
  subscribe(
    topicArn: string,
    queueUrl: string,
    options?: { raw?: boolean; filterPolicy?: Record<string, unknown> },
  ): Promise<string>;
  /** The ARN of a queue, as a subscription names it. */
  queueArn(queueUrl: string): Promise<string>;
  /** Messages on a queue, visible or in flight: what is left of it, e.g. once a consumer has deleted. */
  queueDepth(queueUrl: string): Promise<number>;
  /**
   * What the emulator's inspection endpoint (`GET /_fauxqs/queues/<name>`) shows of a queue: its ready,
   * delayed and in-flight messages, counted without receiving any.
   */
  inspect(queueUrl: string): Promise<QueueInspection>;
  /** A new client for the same endpoint (e.g. with middleware of its own). */
  newClient(): SQSClient;
  /** A new SNS client for the same endpoint. */
  newSnsClient(): SNSClient;
  /** Stops the server, keeping the port, so a test can take the endpoint down. */
  stop(): Promise<void>;
  /** Starts it again on the same port; queues, topics and subscriptions are gone and must be made again. */
  restart(): Promise<void>;
}

export interface QueueInspection {
  ready: number;
  delayed: number;
  inFlight: number;
}

/**
 * Makes names under `.localhost` resolve to loopback in this process (RFC 6761 reserves them; not every
 * resolver does it), so a client with no endpoint reaches the emulator through its queue URLs' own host
 * (`sqs.us-east-1.localhost:<port>`), as a production client reaches SQS. Returns the undo.
 */
export function resolveLocalhostNames(): () => void {
  return interceptLocalhostDns();
}

export async function startSqsEmulator(): Promise<SqsEmulator> {
  let server: FauxqsServer = await startFauxqs({ port: 0, logger: false });
  const port = server.port;
  const endpoint = `http://127.0.0.1:${port}`;
  const config = {
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const newClient = () => new SQSClient(config);
  const newSnsClient = () => new SNSClient(config);
  const sqsClient = newClient();
  const snsClient = newSnsClient();
  const createNamedQueue = async (name: string, attributes?: CreateQueueCommandInput['Attributes']) => {
    const created = await sqsClient.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!created.QueueUrl) throw new Error(`no URL for queue ${name}`);
    return created.QueueUrl;
  };
  const createNamedTopic = async (name: string, attributes?: Record<string, string>) => {
    const created = await snsClient.send(new CreateTopicCommand({ Name: name, Attributes: attributes }));
    if (!created.TopicArn) throw new Error(`no ARN for topic ${name}`);
    return created.TopicArn;
  };
  const queueArn = async (queueUrl: string) => {
    const { Attributes } = await sqsClient.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    if (!Attributes?.QueueArn) throw new Error(`no ARN for queue ${queueUrl}`);
    return Attributes.QueueArn;
  };
  const queueDepth = async (queueUrl: string) => {
    const { Attributes } = await sqsClient.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };
  const inspect = async (queueUrl: string): Promise<QueueInspection> => {
    const name = queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
    const response = await fetch(`${endpoint}/_fauxqs/queues/${encodeURIComponent(name)}`);
    if (!response.ok) throw new Error(`inspecting ${name}: HTTP ${response.status}`);
    const { messages } = (await response.json()) as {
      messages: { ready: unknown[]; delayed: unknown[]; inflight: unknown[] };
    };
    return {
      ready: messages.ready.length,
      delayed: messages.delayed.length,
      inFlight: messages.inflight.length,
    };
  };
  return {
    endpoint,
    port,
    sqsClient,
    inspect,
    snsClient,
    newClient,
    newSnsClient,
    createQueue(prefix, attributes) {
      const fifo = attributes?.FifoQueue === 'true';
      return createNamedQueue(`${prefix}-${randomUUID().slice(0, 8)}${fifo ? '.fifo' : ''}`, attributes);
    },
    createNamedQueue,
    createTopic(prefix, attributes) {
      const fifo = attributes?.FifoTopic === 'true';
      return createNamedTopic(`${prefix}-${randomUUID().slice(0, 8)}${fifo ? '.fifo' : ''}`, attributes);
    },
    createNamedTopic,
    queueArn,
    queueDepth,
    async subscribe(topicArn, queueUrl, options = {}) {
      const attributes: Record<string, string> = {};
      if (options.raw) attributes.RawMessageDelivery = 'true';
      if (options.filterPolicy) attributes.FilterPolicy = JSON.stringify(options.filterPolicy);
      const subscribed = await snsClient.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'sqs',
          Endpoint: await queueArn(queueUrl),
          Attributes: attributes,
          ReturnSubscriptionArn: true,
        }),
      );
      if (!subscribed.SubscriptionArn) throw new Error(`no subscription of ${queueUrl} to ${topicArn}`);
      return subscribed.SubscriptionArn;
    },
    async stop() {
      await server.stop();
    },
    async restart() {
      server = await startFauxqs({ port, logger: false });
    },
  };
}

/**
 * An emulator for the tests of the calling file or `describe`: started before them, stopped after them.
 * It is the one a test would start itself, handed out before it exists so that helpers at the top of a
 * file can close over it; its members may be used only inside tests and hooks.
 */
export function useSqsEmulator(): SqsEmulator {
  let started: SqsEmulator | undefined;
  beforeAll(async () => {
    started = await startSqsEmulator();
  });
  afterAll(async () => {
    await started?.stop();
  });
  const emulator = (): SqsEmulator => {
    if (!started) throw new Error('the SQS emulator is used outside the tests and hooks it was started for');
    return started;
  };
  return {
    get endpoint() {
      return emulator().endpoint;
    },
    get port() {
      return emulator().port;
    },
    get sqsClient() {
      return emulator().sqsClient;
    },
    get snsClient() {
      return emulator().snsClient;
    },
    createQueue: (prefix, attributes) => emulator().createQueue(prefix, attributes),
    createNamedQueue: (name, attributes) => emulator().createNamedQueue(name, attributes),
    createTopic: (prefix, attributes) => emulator().createTopic(prefix, attributes),
    createNamedTopic: (name, attributes) => emulator().createNamedTopic(name, attributes),
    subscribe: (topicArn, queueUrl, options) => emulator().subscribe(topicArn, queueUrl, options),
    queueArn: (queueUrl) => emulator().queueArn(queueUrl),
    inspect: (queueUrl) => emulator().inspect(queueUrl),
    queueDepth: (queueUrl) => emulator().queueDepth(queueUrl),
    newClient: () => emulator().newClient(),
    newSnsClient: () => emulator().newSnsClient(),
    stop: () => emulator().stop(),
    restart: () => emulator().restart(),
  };
}
