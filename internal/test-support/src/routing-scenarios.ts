import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';

/** What these scenarios read of a `RecordingLogger` (named by shape, so this package needs no core). */
interface LogLines {
  waitFor(text: string): Promise<{ fields: Record<string, unknown> }>;
}

/** The session a late answer names: one no gateway instance has any more. */
export const GONE_SESSION_ID = 'gone-session';

/** Puts a late notification for `GONE_SESSION_ID` on a gateway's response queue, as a slow worker would. */
export async function sendLateNotification(sqsClient: SQSClient, queueUrl: string): Promise<void> {
  const late = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'late' } };
  await sqsClient.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(late),
      MessageAttributes: { SessionId: { DataType: 'String', StringValue: GONE_SESSION_ID } },
    }),
  );
}

/** The session a request names in the unknown-session scenarios: one the server never had. */
export const UNKNOWN_SESSION_ID = 'no-such-session';

/** The request sent for `UNKNOWN_SESSION_ID`. */
export const UNKNOWN_SESSION_REQUEST: JSONRPCRequest = { jsonrpc: '2.0', id: 5, method: 'tools/list' };

/** Waits for the server's log line refusing the request for `UNKNOWN_SESSION_ID`, then for its count. */
export async function expectUnknownSessionRejected(
  logger: LogLines,
  unroutable: () => number | undefined,
): Promise<void> {
  const line = await logger.waitFor('message rejected: unknown session');
  expect(line.fields).toMatchObject({
    reason: 'unknown-session',
    detail: `Session not found: ${UNKNOWN_SESSION_ID}`,
  });
  await expect.poll(unroutable, { timeout: 5_000 }).toBe(1);
}

/** A call whose effect can be counted: sent twice as a redelivery, its `echo` must run once. */
export const ECHO_ONCE_REQUEST: JSONRPCRequest = {
  jsonrpc: '2.0',
  id: 'dup-1',
  method: 'tools/call',
  params: { name: 'echo', arguments: { text: 'once' } },
};
