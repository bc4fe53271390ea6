import { randomUUID } from 'node:crypto';
import { fromSqsAttributes } from '@asyncmcp/sqs';
import {
  type Cleanup,
  type JsonRpcSeen,
  QueueReader as QueueReaderOf,
  type SqsEmulator,
  started,
} from '@asyncmcp-internal/test-support';
import { type MessageAttributeValue, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { SnsSqsSessionManager, type SnsSqsSessionManagerOptions } from '../src/index.js';

/** Test helpers shared by this package's end-to-end tests (not a test file itself). */

// Everything the repository's tests share, so this package's tests import their helpers from one place.
export * from '@asyncmcp-internal/test-support';

export type SnsAttributes = Record<string, MessageAttributeValue>;

/** Publishes text to a topic as any SNS publisher would (a Python peer, or a test injecting junk). */
export async function publish(
  snsClient: SNSClient,
  topicArn: string,
  message: string,
  attributes: SnsAttributes = {},
): Promise<void> {
  await snsClient.send(
    new PublishCommand({
      TopicArn: topicArn,
      Message: message,
      ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
    }),
  );
}

/**
 * An SQS body as SNS writes it for a subscription without raw delivery, laid out the way SNS lays it
 * out (`"Key" : value`), for the control messages and mixed cases the emulator never produces itself.
 */
export function snsEnvelope(
  fields: { Type?: string; Message: string; TopicArn?: string; SubscribeURL?: string; Token?: string },
  attributes: Record<string, string> = {},
): string {
  const entries: [string, string][] = [
    ['Type', JSON.stringify(fields.Type ?? 'Notification')],
    ['MessageId', JSON.stringify(randomUUID())],
  ];
  if (fields.Token !== undefined) entries.push(['Token', JSON.stringify(fields.Token)]);
  entries.push(
    ['TopicArn', JSON.stringify(fields.TopicArn ?? 'arn:aws:sns:us-east-1:000000000000:t')],
    ['Message', JSON.stringify(fields.Message)],
  );
  if (fields.SubscribeURL !== undefined) entries.push(['SubscribeURL', JSON.stringify(fields.SubscribeURL)]);
  entries.push(
    ['Timestamp', JSON.stringify(new Date().toISOString())],
    ['SignatureVersion', JSON.stringify('1')],
    [
      'Signature',
      JSON.stringify('EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQ='),
    ],
    ['SigningCertURL', JSON.stringify('https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0.pem')],
  );
  if (Object.keys(attributes).length > 0) {
    const inner = Object.entries(attributes)
      .map(
        ([name, value]) =>
          `    ${JSON.stringify(name)} : ${JSON.stringify({ Type: name === 'Timestamp' ? 'Number' : 'String', Value: value })}`,
      )
      .join(',\n');
    entries.push(['MessageAttributes', `{\n${inner}\n  }`]);
  }
  return `{\n${entries.map(([key, value]) => `  ${JSON.stringify(key)} : ${value}`).join(',\n')}\n}`;
}

/** One message read off a subscribed queue, seen the way a Python peer sees it. */
export interface Delivered {
  /** The SQS body as it arrived: the envelope, or the published text under raw delivery. */
  raw: Message;
  /** The envelope, when SNS wrapped the message in one. */
  envelope: Record<string, unknown> | undefined;
  /** The published text. */
  text: string;
  rpc: JsonRpcSeen;
  /** Attributes from wherever they arrived: SQS attributes (raw) or the envelope's `MessageAttributes`. */
  attributes: Record<string, string>;
  /** Their data types (`String`, `Number`), from the same place. */
  types: Record<string, string>;
}

/** Reads a queue subscribed to a topic as a Python peer does, the message unwrapped from its envelope if any. */
export class QueueReader extends QueueReaderOf<Delivered> {
  constructor(sqsClient: SQSClient, queueUrl: string) {
    super(sqsClient, queueUrl, { decode: delivered, rpcOf: (message) => message.rpc });
  }
}

function delivered(message: Message): Delivered {
  const body = message.Body ?? '';
  const parsed = JSON.parse(body) as Record<string, unknown>;
  const isEnvelope = typeof parsed.Type === 'string' && 'Message' in parsed;
  if (!isEnvelope) {
    const sqs = message.MessageAttributes ?? {};
    return {
      raw: message,
      envelope: undefined,
      text: body,
      rpc: parsed as JsonRpcSeen,
      attributes: fromSqsAttributes(sqs),
      types: Object.fromEntries(Object.entries(sqs).map(([name, value]) => [name, value.DataType ?? ''])),
    };
  }
  const text = String(parsed.Message);
  const inner = (parsed.MessageAttributes ?? {}) as Record<string, { Type: string; Value: string }>;
  return {
    raw: message,
    envelope: parsed,
    text,
    rpc: JSON.parse(text) as JsonRpcSeen,
    attributes: Object.fromEntries(Object.entries(inner).map(([name, value]) => [name, value.Value])),
    types: Object.fromEntries(Object.entries(inner).map(([name, value]) => [name, value.Type])),
  };
}

/** What a test server records and waits on. */
export interface ServerFixture {
  /** Calls per tool and argument, e.g. `echo:once` → 1. */
  calls: Map<string, number>;
  /** What the `wait` tool waits for before it answers. */
  gate?: Promise<void>;
  /** Called when the `wait` tool starts. */
  onWait?: () => void;
}

/** The MCP server of these tests: echo, an answer of any size, progress, and a tool that waits on a gate. */
export function testServerFactory(fixture: ServerFixture = { calls: new Map() }): () => McpServer {
  return () => {
    const server = new McpServer(
      { name: 'sns-sqs-test', version: '1.0.0' },
      { capabilities: { logging: {} } },
    );
    const count = (name: string) => fixture.calls.set(name, (fixture.calls.get(name) ?? 0) + 1);
    server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => {
      count(`echo:${text}`);
      return { content: [{ type: 'text', text }] };
    });
    server.registerTool('wait', {}, async () => {
      count('wait');
      fixture.onWait?.();
      await fixture.gate;
      return { content: [{ type: 'text', text: 'waited' }] };
    });
    server.registerTool('big', { inputSchema: { bytes: z.number().int() } }, async ({ bytes }) => ({
      content: [{ type: 'text', text: 'x'.repeat(bytes) }],
    }));
    server.registerTool(
      'progress',
      { inputSchema: { steps: z.number().int() } },
      async ({ steps }, extra) => {
        for (let step = 1; step <= steps; step++) {
          const token = extra._meta?.progressToken;
          if (token !== undefined) {
            await extra.sendNotification({
              method: 'notifications/progress',
              params: { progressToken: token, progress: step, total: steps },
            });
          }
        }
        return { content: [{ type: 'text', text: `done ${steps}` }] };
      },
    );
    return server;
  };
}

/**
 * A started `SnsSqsSessionManager` with this package's test defaults (the test server, 1 s polls), closed
 * after the test; `options` add to or replace them.
 */
export async function startManager(
  emulator: Pick<SqsEmulator, 'snsClient' | 'sqsClient'>,
  cleanups: Cleanup[],
  options: Partial<SnsSqsSessionManagerOptions> & { requestQueueUrl: string },
): Promise<SnsSqsSessionManager> {
  const manager = await started(
    new SnsSqsSessionManager({
      snsClient: emulator.snsClient,
      sqsClient: emulator.sqsClient,
      createServer: testServerFactory(),
      waitTimeSeconds: 1,
      ...options,
    }),
    cleanups,
  );
  return manager;
}
