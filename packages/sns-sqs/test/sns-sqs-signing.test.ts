import { buildClientAttributes, buildServerAttributes } from '@asyncmcp/core';
import { RecordingLogger } from '@asyncmcp/core/testing';
import { toSqsAttributes } from '@asyncmcp/sqs';
import { PublishCommand, type PublishCommandInput } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { SnsSqsClientTransport } from '../src/index.js';
import {
  connectedClient,
  echoText,
  initializeRequest,
  startManager,
  testServerFactory,
  useQueueTestBed,
} from './support.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const REFUSED = 'message refused: its signature does not hold';
const _request = { timeout: 20_000 };

const { emulator, cleanups } = useQueueTestBed();

/** A topic with a queue subscribed to it in SNS envelopes (the attributes travel inside the envelope). */
async function channel(prefix: string) {
  const topicArn = await emulator.createTopic(prefix);
  const queueUrl = await emulator.createQueue(prefix);
  await emulator.subscribe(topicArn, queueUrl, { raw: false });
  return { topicArn, queueUrl };
}

async function startServer() {
  const requests = await channel('signed-requests');
  const logger = new RecordingLogger();
  const fixture = { calls: new Map<string, number>() };
  const manager = await startManager(emulator, cleanups, {
    requestQueueUrl: requests.queueUrl,
    createServer: testServerFactory(fixture),
    signingSecret: SECRET,
    logger,
  });
  return { manager, logger, fixture, requestTopicArn: requests.topicArn };
}

describe('SNS+SQS signed messages', () => {
  it('signs every publish; client and server take each other’s messages and refuse the rest', async () => {
    const server = await startServer();
    const responses = await channel('signed-responses');
    const published: PublishCommandInput[] = [];
    const snsClient = emulator.newSnsClient();
    snsClient.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PublishCommand') published.push(args.input as PublishCommandInput);
        return next(args);
      },
      { step: 'initialize', name: 'capturePublish' },
    );
    cleanups.push(async () => snsClient.destroy());
    const logger = new RecordingLogger();
    const transport = new SnsSqsClientTransport({
      snsClient,
      sqsClient: emulator.sqsClient,
      requestTopicArn: server.requestTopicArn,
      responseTopicArn: responses.topicArn,
      responseQueueUrl: responses.queueUrl,
      signingSecret: SECRET,
      waitTimeSeconds: 1,
      logger,
    });
    const client = await connectedClient(transport, cleanups, 'signed-client');
    expect(await echoText(client, 'hi')).toBe('hi');
    expect(published.length).toBeGreaterThan(0);
    for (const input of published) {
      expect(input.MessageAttributes?.Signature?.StringValue).toMatch(/^v1,/);
      expect(input.MessageAttributes?.SignatureId?.StringValue).toMatch(/^msg_[0-9a-f]{32}$/);
    }

    // An unsigned request naming the live session, published to the request topic: refused, never run.
    const sessionId = transport.sessionId as string;
    const injected = {
      jsonrpc: '2.0' as const,
      id: 77,
      method: 'tools/call',
      params: {
        name: 'echo',
        arguments: { text: 'injected' },
        _meta: { clientTopicArn: responses.topicArn },
      },
    };
    await emulator.snsClient.send(
      new PublishCommand({
        TopicArn: server.requestTopicArn,
        Message: JSON.stringify(injected),
        MessageAttributes: toSqsAttributes(
          buildClientAttributes({ message: injected, clientId: 'x', sessionId }),
        ),
      }),
    );
    const refusal = await server.logger.waitFor(REFUSED);
    expect(refusal.fields).toMatchObject({ reason: 'unsigned' });
    expect(server.manager.metrics.refused).toBe(1);

    // An unsigned answer on the client's response topic: refused by the client.
    const forged = { jsonrpc: '2.0' as const, id: 999, result: {} };
    await emulator.snsClient.send(
      new PublishCommand({
        TopicArn: responses.topicArn,
        Message: JSON.stringify(forged),
        MessageAttributes: toSqsAttributes(buildServerAttributes({ message: forged, sessionId })),
      }),
    );
    expect((await logger.waitFor(REFUSED)).fields).toMatchObject({ reason: 'unsigned' });

    expect(await echoText(client, 'again')).toBe('again');
    expect(server.fixture.calls.get('echo:injected')).toBeUndefined();
  });

  it('refuses an unsigned peer’s initialize (a Python client) when it has a secret: no session opens', async () => {
    const server = await startServer();
    const responses = await channel('unsigned-responses');
    const initialize = initializeRequest(1, {
      clientInfo: { name: 'python-like', version: '0' },
      meta: { clientTopicArn: responses.topicArn },
    });
    await emulator.snsClient.send(
      new PublishCommand({
        TopicArn: server.requestTopicArn,
        Message: JSON.stringify(initialize),
        MessageAttributes: toSqsAttributes(
          buildClientAttributes({ message: initialize, clientId: 'python' }),
        ),
      }),
    );
    expect((await server.logger.waitFor(REFUSED)).fields).toMatchObject({ reason: 'unsigned' });
    expect(server.manager.sessions.size).toBe(0);
    expect(await emulator.queueDepth(responses.queueUrl)).toBe(0);
  });
});
