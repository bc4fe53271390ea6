import { buildClientAttributes } from '@asyncmcp/core';
import { RecordingLogger } from '@asyncmcp/core/testing';
import { destroyAfterTest, started, textOf, useQueueTestBed } from '@asyncmcp-internal/test-support';
import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { SqsClientTransport, SqsSessionManager, toSqsAttributes } from '../src/index.js';

const WAIT_MS = 20_000;

/**
 * SQS's `SenderId` as the real service sets it: the identity whose credentials sent each message. The
 * emulator answers one constant for every sender, so each client here records the ids of the messages
 * it sent under an identity of its own, and the reading client is told that identity on receipt.
 */
class SenderIds {
  readonly #ids = new Map<string, string>();
  readonly #waiters = new Map<string, (identity: string) => void>();

  /** A client that sends as `identity`. */
  sendingAs(client: SQSClient, identity: string): SQSClient {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const output = result.output as {
          MessageId?: string;
          Successful?: Array<{ MessageId?: string }>;
        };
        if (context.commandName === 'SendMessageCommand' && output.MessageId)
          this.#record(output.MessageId, identity);
        if (context.commandName === 'SendMessageBatchCommand') {
          for (const entry of output.Successful ?? [])
            if (entry.MessageId) this.#record(entry.MessageId, identity);
        }
        return result;
      },
      { step: 'initialize', name: 'recordSender' },
    );
    return client;
  }

  /** A client whose received messages carry their sender's identity as `SenderId`. */
  receiving(client: SQSClient): SQSClient {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName !== 'ReceiveMessageCommand') return result;
        const output = result.output as {
          Messages?: Array<{ MessageId?: string; Attributes?: Record<string, string> }>;
        };
        for (const message of output.Messages ?? []) {
          message.Attributes = {
            ...message.Attributes,
            SenderId: await this.#identityOf(message.MessageId ?? ''),
          };
        }
        return result;
      },
      { step: 'initialize', name: 'stampSenderId' },
    );
    return client;
  }

  #record(messageId: string, identity: string): void {
    this.#ids.set(messageId, identity);
    this.#waiters.get(messageId)?.(identity);
  }

  /** A message can be received before its sender has heard its id back: wait for it (bounded). */
  #identityOf(messageId: string): Promise<string> {
    const known = this.#ids.get(messageId);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the sender of message ${messageId} was not heard within ${WAIT_MS} ms`)),
        WAIT_MS,
      );
      this.#waiters.set(messageId, (identity) => {
        clearTimeout(timer);
        resolve(identity);
      });
    });
  }
}

function counterServer() {
  let count = 0;
  const server = new McpServer({ name: 'counter', version: '1.0.0' });
  server.registerTool('bump', {}, async () => ({ content: [{ type: 'text', text: String(++count) }] }));
  server.registerTool('count', {}, async () => ({ content: [{ type: 'text', text: String(count) }] }));
  return server;
}

describe('sessions bound to their sender (SQS SenderId)', () => {
  const { emulator: sqs, cleanups } = useQueueTestBed();

  it('refuses a message of a session from another sender than the one that opened it; the session keeps working', async () => {
    const senders = new SenderIds();
    const requestQueueUrl = await sqs.createQueue('bound-requests');
    const deadLetterQueueUrl = await sqs.createQueue('bound-dlq');
    const logger = new RecordingLogger();
    const managerSqs = senders.receiving(sqs.newClient());
    const clientSqs = senders.sendingAs(sqs.newClient(), 'AIDACLIENT');
    const attackerSqs = senders.sendingAs(sqs.newClient(), 'AIDAATTACKER');
    destroyAfterTest(cleanups, managerSqs, clientSqs, attackerSqs);
    const manager = await started(
      new SqsSessionManager({
        sqsClient: managerSqs,
        requestQueueUrl,
        createServer: counterServer,
        bindSessionsToSender: true,
        deadLetterQueueUrl,
        waitTimeSeconds: 1,
        logger,
      }),
      cleanups,
    );
    const transport = new SqsClientTransport({
      sqsClient: clientSqs,
      requestQueueUrl,
      responseQueueUrl: await sqs.createQueue('bound-responses'),
      waitTimeSeconds: 1,
    });
    const client = new Client({ name: 'bound-client', version: '1.0.0' });
    await client.connect(transport, { timeout: WAIT_MS });
    cleanups.push(() => client.close());
    const call = async (name: string) =>
      textOf(await client.callTool({ name, arguments: {} }, undefined, { timeout: WAIT_MS }));
    expect(await call('count')).toBe('0');

    // Another identity, with SendMessage on the queue and the session's id: no secret needed to try.
    const sessionId = transport.sessionId as string;
    const attackerQueueUrl = await sqs.createQueue('bound-attacker');
    const injected = {
      jsonrpc: '2.0' as const,
      id: 1,
      method: 'tools/call',
      params: { name: 'bump', arguments: {}, _meta: { responseQueueUrl: attackerQueueUrl } },
    };
    await attackerSqs.send(
      new SendMessageCommand({
        QueueUrl: requestQueueUrl,
        MessageBody: JSON.stringify(injected),
        MessageAttributes: toSqsAttributes(
          buildClientAttributes({
            message: injected,
            clientId: 'attacker',
            sessionId,
            protocolVersion: '2025-11-25',
          }),
        ),
      }),
    );
    const refusal = await logger.waitFor('message refused: not from the sender that opened its session');
    expect(refusal.fields).toMatchObject({ senderId: 'AIDAATTACKER' });
    expect(manager.metrics.refused).toBe(1);

    // Kept in the dead-letter queue; never run, never answered.
    const { Messages } = await sqs.sqsClient.send(
      new ReceiveMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        WaitTimeSeconds: 5,
        MessageAttributeNames: ['All'],
      }),
    );
    expect(Messages?.[0]?.Body).toBe(JSON.stringify(injected));
    expect(await call('count')).toBe('0');
    expect(await call('bump')).toBe('1');
    expect(await sqs.queueDepth(attackerQueueUrl)).toBe(0);
  });
});
