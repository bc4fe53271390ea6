import { randomUUID } from 'node:crypto';
import { Recorded, RecordingLogger } from '@asyncmcp/core/testing';
import {
  type AwsCall,
  type SqsEmulator,
  startSqsEmulator,
  watchCalls,
} from '@asyncmcp-internal/test-support';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SnsSqsClientTransport,
  SnsSqsSessionManager,
  type SubscriptionConfirmationOptions,
  snsSqsBackend,
} from '../src/index.js';
import { cleanupsAfterEach, started, testServerFactory } from './support.js';

let emulator: SqsEmulator;
const cleanups = cleanupsAfterEach();

beforeAll(async () => {
  emulator = await startSqsEmulator();
});
afterAll(async () => {
  await emulator.stop();
});

/**
 * The SNS and SQS commands a reader sends, in the order they complete, with a bounded wait for one of
 * them. Both clients share the record, so the order of a confirmation and a deletion can be checked.
 */
class CallRecorder {
  readonly #calls = new Recorded<AwsCall>();
  readonly calls: AwsCall[] = this.#calls.items;

  watch(client: SNSClient | SQSClient): void {
    watchCalls(client, (call) => this.#calls.record(call));
  }

  named(...commands: string[]): AwsCall[] {
    return this.calls.filter((call) => commands.includes(call.command));
  }

  waitFor(commands: string[], timeoutMs = 10_000): Promise<AwsCall> {
    return this.#calls.waitFor((call) => commands.includes(call.command), {
      timeoutMs,
      what: commands.join(' or '),
    });
  }
}

const DELETES = ['DeleteMessage', 'DeleteMessageBatch'];

/** The envelope SNS delivers to a subscribed queue when a subscription waits for confirmation. */
function subscriptionConfirmation(topicArn: string, token: string): string {
  return JSON.stringify({
    Type: 'SubscriptionConfirmation',
    MessageId: randomUUID(),
    Token: token,
    TopicArn: topicArn,
    Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=${encodeURIComponent(token)}`,
    Timestamp: new Date().toISOString(),
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL:
      'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
  });
}

async function queueDepth(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await emulator.sqsClient.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

interface Setup {
  queueUrl: string;
  calls: CallRecorder;
  logger: RecordingLogger;
  snsClient: SNSClient;
  sqsClient: SQSClient;
  options: SubscriptionConfirmationOptions;
}

/** Starts one of the three SNS+SQS readers on `queueUrl`. */
type StartReader = (setup: Setup) => Promise<void>;

/** What every reader here is given: fast polls, and a message back on the queue 1 s after a failure. */
function readerOptions({ logger, snsClient, sqsClient, options }: Setup) {
  return { snsClient, sqsClient, waitTimeSeconds: 1, visibilityTimeoutSeconds: 1, logger, ...options };
}

/** The topics a gateway-side reader sends on and answers come back from; confirmations never use them. */
async function clientTopics() {
  return {
    requestTopicArn: await emulator.createTopic('sub-requests'),
    responseTopicArn: await emulator.createTopic('sub-responses'),
  };
}

const readers: Array<[string, StartReader]> = [
  [
    'SnsSqsSessionManager',
    async (setup) => {
      await started(
        new SnsSqsSessionManager({
          ...readerOptions(setup),
          requestQueueUrl: setup.queueUrl,
          createServer: testServerFactory(),
        }),
        cleanups,
      );
    },
  ],
  [
    'SnsSqsClientTransport',
    async (setup) => {
      await started(
        new SnsSqsClientTransport({
          ...readerOptions(setup),
          ...(await clientTopics()),
          responseQueueUrl: setup.queueUrl,
        }),
        cleanups,
      );
    },
  ],
  [
    'snsSqsBackend',
    async (setup) => {
      await started(
        snsSqsBackend({
          ...readerOptions(setup),
          ...(await clientTopics()),
          responseQueueUrl: setup.queueUrl,
        }),
        cleanups,
      );
    },
  ],
];

/**
 * A queue subscribed to a topic, a reader on it, and a subscription confirmation put on the queue. The
 * emulator confirms a subscription given its ARN as the token, so a real confirmation can succeed.
 */
async function confirmationOnQueue(
  startReader: StartReader,
  options: SubscriptionConfirmationOptions & { token?: string; topicArn?: string; snsClient?: SNSClient },
) {
  const queueUrl = await emulator.createQueue('sub-queue');
  const topicArn = options.topicArn ?? (await emulator.createTopic('sub-topic'));
  const subscriptionArn = await emulator.subscribe(topicArn, queueUrl);
  const token = options.token ?? subscriptionArn;
  const calls = new CallRecorder();
  const snsClient = options.snsClient ?? emulator.newSnsClient();
  const sqsClient = emulator.newClient();
  calls.watch(snsClient);
  calls.watch(sqsClient);
  const logger = new RecordingLogger();
  await emulator.sqsClient.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: subscriptionConfirmation(topicArn, token) }),
  );
  const { snsClient: _given, token: _token, topicArn: _topic, ...startOptions } = options;
  await startReader({ queueUrl, calls, logger, snsClient, sqsClient, options: startOptions });
  return { queueUrl, topicArn, subscriptionArn, token, calls, logger };
}

describe.each(readers)('%s and SNS subscription confirmations', (_name, startReader) => {
  it('logs and deletes a confirmation without confirming it by default', async () => {
    const { queueUrl, topicArn, calls, logger } = await confirmationOnQueue(startReader, {});
    const deleted = await logger.waitFor('SNS control message deleted');
    expect(deleted.fields).toMatchObject({ kind: 'subscription-confirmation', topicArn });
    await calls.waitFor(DELETES);
    expect(calls.named('ConfirmSubscription')).toEqual([]);
    expect(await queueDepth(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('confirms with the topic and token of the envelope, then deletes the message', async () => {
    const { queueUrl, topicArn, subscriptionArn, token, calls, logger } = await confirmationOnQueue(
      startReader,
      { confirmSubscriptions: true },
    );
    const confirmed = await logger.waitFor('SNS subscription confirmed');
    expect(confirmed.level).toBe('info');
    expect(confirmed.fields).toMatchObject({ topicArn, subscriptionArn });
    const deletion = await calls.waitFor(DELETES);
    const confirmations = calls.named('ConfirmSubscription');
    expect(confirmations).toEqual([
      { command: 'ConfirmSubscription', input: { TopicArn: topicArn, Token: token }, ok: true },
    ]);
    expect(calls.calls.indexOf(confirmations[0] as AwsCall)).toBeLessThan(calls.calls.indexOf(deletion));
    expect(await queueDepth(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('deletes a confirmation SNS refuses, since trying again cannot succeed', async () => {
    const { queueUrl, topicArn, calls, logger } = await confirmationOnQueue(startReader, {
      confirmSubscriptions: true,
      token: 'not-a-token-the-topic-issued',
    });
    const refused = await logger.waitFor('SNS refused to confirm the subscription');
    expect(refused.level).toBe('warn');
    expect(refused.fields).toMatchObject({ topicArn });
    await calls.waitFor(DELETES);
    expect(calls.named('ConfirmSubscription').map((call) => call.ok)).toEqual([false]);
    expect(await queueDepth(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('leaves the message on the queue when SNS cannot be reached, and tries again after its visibility timeout', async () => {
    // Nothing listens on port 1: every confirmation fails to connect, a failure that can pass.
    const unreachable = new SNSClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const { queueUrl, topicArn, calls, logger } = await confirmationOnQueue(startReader, {
      confirmSubscriptions: true,
      snsClient: unreachable,
    });
    const failed = await logger.waitFor('could not confirm an SNS subscription');
    expect(failed.level).toBe('warn');
    expect(failed.fields).toMatchObject({ topicArn });
    expect(failed.fields.err).toBeDefined();
    // Not deleted: it comes back once its visibility timeout (1 s here) is over, and is tried again.
    const index = logger.entries.indexOf(failed);
    await logger.waitFor('could not confirm an SNS subscription', 20_000, index + 1);
    expect(calls.named('ConfirmSubscription').filter((call) => !call.ok).length).toBeGreaterThanOrEqual(2);
    expect(calls.named(...DELETES)).toEqual([]);
    // Still on the queue: in flight while it is being tried, or visible again if a slow machine took
    // longer than the visibility timeout to get here, but never deleted.
    const { visible, inFlight } = await queueDepth(queueUrl);
    expect(visible + inFlight).toBe(1);
  });
});

describe('confirmTopicArns', () => {
  const [, startManager] = readers[0] as [string, StartReader];

  it('refuses confirmTopicArns without confirmSubscriptions, at construction', () => {
    expect(
      () =>
        new SnsSqsSessionManager({
          snsClient: emulator.snsClient,
          sqsClient: emulator.sqsClient,
          requestQueueUrl: 'http://127.0.0.1:1/000000000000/never-read',
          createServer: testServerFactory(),
          confirmTopicArns: ['arn:aws:sns:us-east-1:000000000000:listed'],
        }),
    ).toThrow('confirmTopicArns needs confirmSubscriptions: true');
  });

  it('confirms a listed topic', async () => {
    const topicArn = await emulator.createTopic('sub-listed');
    const { calls, logger } = await confirmationOnQueue(startManager, {
      confirmSubscriptions: true,
      confirmTopicArns: [topicArn],
      topicArn,
    });
    await logger.waitFor('SNS subscription confirmed');
    await calls.waitFor(DELETES);
    expect(calls.named('ConfirmSubscription')).toHaveLength(1);
  });

  it('logs and deletes the confirmation of a topic not listed, without confirming it', async () => {
    const { queueUrl, topicArn, calls, logger } = await confirmationOnQueue(startManager, {
      confirmSubscriptions: true,
      confirmTopicArns: ['arn:aws:sns:us-east-1:000000000000:some-other-topic'],
    });
    const deleted = await logger.waitFor('SNS control message deleted');
    expect(deleted.fields).toMatchObject({ kind: 'subscription-confirmation', topicArn });
    await calls.waitFor(DELETES);
    expect(calls.named('ConfirmSubscription')).toEqual([]);
    expect(await queueDepth(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe('UnsubscribeConfirmation', () => {
  it('is logged and deleted, never confirmed, even with confirmSubscriptions', async () => {
    const queueUrl = await emulator.createQueue('unsub-queue');
    const topicArn = await emulator.createTopic('unsub-topic');
    const calls = new CallRecorder();
    const snsClient = emulator.newSnsClient();
    const sqsClient = emulator.newClient();
    calls.watch(snsClient);
    calls.watch(sqsClient);
    const logger = new RecordingLogger();
    await emulator.sqsClient.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({
          Type: 'UnsubscribeConfirmation',
          MessageId: randomUUID(),
          Token: 'token',
          TopicArn: topicArn,
          Message: `You have chosen to deactivate subscription to ${topicArn}.`,
          Timestamp: new Date().toISOString(),
        }),
      }),
    );
    const [, startManager] = readers[0] as [string, StartReader];
    await startManager({
      queueUrl,
      calls,
      logger,
      snsClient,
      sqsClient,
      options: { confirmSubscriptions: true },
    });
    const deleted = await logger.waitFor('SNS control message deleted');
    expect(deleted.fields).toMatchObject({ kind: 'unsubscribe-confirmation', topicArn });
    await calls.waitFor(DELETES);
    expect(calls.named('ConfirmSubscription')).toEqual([]);
  });
});
