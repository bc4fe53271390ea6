import { RecordingLogger } from '@asyncmcp/core/testing';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { initializeRequest, pyClientAttributes, startManager, useQueueTestBed } from './support.js';

const { emulator, cleanups } = useQueueTestBed();

function initializeNaming(clientTopicArn: string, id: number) {
  return {
    MessageBody: JSON.stringify(
      initializeRequest(id, { clientInfo: { name: 'intruder', version: '1' }, meta: { clientTopicArn } }),
    ),
    MessageAttributes: pyClientAttributes({ method: 'initialize', id }),
  };
}

describe('trust on shared queues: SNS+SQS response topics', () => {
  it("publishes to no topic outside the request queue's account and region unless allowed", async () => {
    const requestQueueUrl = await emulator.createQueue('trust-sns-requests');
    const deadLetterQueueUrl = await emulator.createQueue('trust-sns-dlq');
    const ownTopic = await emulator.createTopic('trust-sns-answers');
    const answers = await emulator.createQueue('trust-sns-answers');
    await emulator.subscribe(ownTopic, answers, { raw: true });
    const [, , , region, account] = ownTopic.split(':');
    const logger = new RecordingLogger();
    const manager = await startManager(emulator, cleanups, {
      requestQueueUrl,
      deadLetterQueueUrl,
      allowedResponseDestinations: [`arn:aws:sns:eu-central-1:${account}:allowed-*`],
      logger,
    });
    const send = (arn: string, id: number) =>
      emulator.sqsClient.send(
        new SendMessageCommand({ QueueUrl: requestQueueUrl, ...initializeNaming(arn, id) }),
      );

    await send(`arn:aws:sns:${region}:999999999999:answers`, 1);
    await send(`arn:aws:sns:eu-central-1:${account}:answers`, 2);
    await expect.poll(() => emulator.queueDepth(deadLetterQueueUrl), { timeout: 15_000 }).toBe(2);
    expect(manager.metrics.refusedDestinations).toBe(2);
    const details = logger.entries
      .filter((entry) => entry.fields.reason === 'refused-destination')
      .map((entry) => String(entry.fields.detail));
    expect(details).toEqual([
      expect.stringContaining('account 999999999999'),
      expect.stringContaining('region eu-central-1'),
    ]);

    // Allowed by the list: the manager takes it (the topic does not exist here, so the send fails).
    await send(`arn:aws:sns:eu-central-1:${account}:allowed-answers`, 3);
    // In the account and region of the request queue: answered.
    await send(ownTopic, 4);
    await expect.poll(() => emulator.queueDepth(answers), { timeout: 15_000 }).toBe(1);
    // Both opened a session: neither was refused.
    await expect.poll(() => manager.metrics.sessionsOpened, { timeout: 15_000 }).toBe(2);
    expect(manager.metrics.refusedDestinations).toBe(2);
  });
});
