import { buildServerAttributes, ConfigurationError, MessageSigner } from '@asyncmcp/core';
import { RecordingLogger } from '@asyncmcp/core/testing';
import { connectedClient, echoText, started, useQueueTestBed } from '@asyncmcp-internal/test-support';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SqsClientTransport, SqsSessionManager, sqsBackend, toSqsAttributes } from '../src/index.js';

const SECRET = 'whsec_YSBzZWNyZXQgc2hhcmVkIGJ5IGNsaWVudCBhbmQgc2VydmVy';
const REFUSED = 'message refused: its signature does not hold';
const _request = { timeout: 20_000 };

function echoServer() {
  const server = new McpServer({ name: 'signed', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

describe('SQS signed messages', () => {
  const { emulator: sqs, cleanups } = useQueueTestBed();

  it('the client transport signs and checks: calls work, a forged answer on its queue is refused', async () => {
    const requestQueueUrl = await sqs.createQueue('signed-requests');
    const responseQueueUrl = await sqs.createQueue('signed-responses');
    const _manager = await started(
      new SqsSessionManager({
        sqsClient: sqs.sqsClient,
        requestQueueUrl,
        createServer: echoServer,
        signingSecret: SECRET,
        waitTimeSeconds: 1,
      }),
      cleanups,
    );
    const logger = new RecordingLogger();
    const transport = new SqsClientTransport({
      sqsClient: sqs.sqsClient,
      requestQueueUrl,
      responseQueueUrl,
      signingSecret: SECRET,
      waitTimeSeconds: 1,
      logger,
    });
    const client = await connectedClient(transport, cleanups, 'signed-client');
    expect(await echoText(client, 'one')).toBe('one');

    // Signed with another secret, for the live session: the client refuses it before reading it.
    const forged = { jsonrpc: '2.0' as const, id: 5, result: { content: [] } };
    const body = JSON.stringify(forged);
    await sqs.sqsClient.send(
      new SendMessageCommand({
        QueueUrl: responseQueueUrl,
        MessageBody: body,
        MessageAttributes: toSqsAttributes(
          new MessageSigner({
            secret: 'whsec_bm90IHRoZSBzZWNyZXQsIGJ1dCBsb25nIGVub3VnaA==',
          }).sign(body, buildServerAttributes({ message: forged, sessionId: transport.sessionId as string })),
        ),
      }),
    );
    expect((await logger.waitFor(REFUSED)).fields).toMatchObject({ reason: 'forged' });
    expect(await echoText(client, 'two')).toBe('two');
  });

  it('a server with a secret refuses an unsigned client (a Python peer) and dead-letters its messages', async () => {
    const requestQueueUrl = await sqs.createQueue('signed-requests');
    const deadLetterQueueUrl = await sqs.createQueue('signed-dlq');
    const logger = new RecordingLogger();
    const manager = await started(
      new SqsSessionManager({
        sqsClient: sqs.sqsClient,
        requestQueueUrl,
        createServer: echoServer,
        signingSecret: SECRET,
        deadLetterQueueUrl,
        waitTimeSeconds: 1,
        logger,
      }),
      cleanups,
    );
    const transport = new SqsClientTransport({
      sqsClient: sqs.sqsClient,
      requestQueueUrl,
      responseQueueUrl: await sqs.createQueue('unsigned-responses'),
      waitTimeSeconds: 1,
    });
    const client = new Client({ name: 'unsigned-client', version: '1.0.0' });
    const connecting = client.connect(transport, { timeout: 60_000 }).catch(() => undefined);
    cleanups.push(async () => {
      await client.close();
      await connecting;
    });
    expect((await logger.waitFor(REFUSED)).fields).toMatchObject({ reason: 'unsigned' });
    const { Messages } = await sqs.sqsClient.send(
      new ReceiveMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        WaitTimeSeconds: 5,
        MessageAttributeNames: ['All'],
      }),
    );
    expect(JSON.parse(Messages?.[0]?.Body ?? '{}')).toMatchObject({ method: 'initialize' });
    expect(manager.sessions.size).toBe(0);
    expect(manager.metrics.refused).toBe(1);
  });

  it('leaves room for the signature: with a secret, one custom attribute at most', () => {
    const options = { sqsClient: sqs.sqsClient, requestQueueUrl: 'q', responseQueueUrl: 'r' };
    const custom = { Team: 'a', Tier: 'b' };
    expect(() => new SqsClientTransport({ ...options, messageAttributes: custom })).not.toThrow();
    expect(
      () => new SqsClientTransport({ ...options, messageAttributes: custom, signingSecret: SECRET }),
    ).toThrow(ConfigurationError);
    expect(() =>
      sqsBackend({
        sqsClient: sqs.sqsClient,
        requestQueueUrl: 'q',
        messageAttributes: custom,
        signingSecret: SECRET,
      }),
    ).toThrow(ConfigurationError);
    expect(() => new SqsClientTransport({ ...options, signingSecret: 'short' })).toThrow(ConfigurationError);
  });
});
