import {
  encodeMessage,
  type JSONRPCMessage,
  sessionAliveNotification,
  sessionEndedNotification,
  sessionNotFoundError,
} from '@asyncmcp/core';
import { ManualClock } from '@asyncmcp/core/testing';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { DestinationScope } from './response-destinations.js';
import { WorkerLink } from './worker-link.js';

const INBOX = 'https://sqs.us-east-1.amazonaws.com/000000000000/asyncmcp-worker-1';

/**
 * An SQS client that takes every send, or refuses SendMessage as a deleted queue would while
 * `options.queueGone` is set (a test may flip it: the queue service lost the queue, then it is made again).
 */
function fakeSqs(options: { queueGone?: boolean } = {}): { client: SQSClient; sent: string[] } {
  const sent: string[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      if (name === 'GetQueueAttributesCommand') return { Attributes: {} };
      if (options.queueGone) {
        throw Object.assign(new Error('The specified queue does not exist.'), {
          name: 'QueueDoesNotExist',
          $metadata: { httpStatusCode: 400 },
        });
      }
      sent.push(String(command.input.MessageBody ?? JSON.stringify(command.input.Entries)));
      return { Failed: [] };
    },
  } as unknown as SQSClient;
  return { client, sent };
}

function request(id: number): JSONRPCMessage {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo' } };
}

function outbound(message: JSONRPCMessage) {
  return { message, body: encodeMessage(message), attributes: {}, groupId: 'session-1' };
}

function linked(options: { queueGone?: boolean } = {}) {
  const clock = new ManualClock(0);
  const lost: string[] = [];
  const sqs = fakeSqs(options);
  const link = new WorkerLink({
    sqsClient: sqs.client,
    clock,
    missingAddressGraceMs: GRACE_MS,
    onLost: (reason) => lost.push(reason),
  });
  expect(link.attach({ inbox: INBOX, aliveIntervalSeconds: 1 }, SCOPE)).toBeUndefined();
  return { clock, lost, link, sent: sqs.sent };
}

const GRACE_MS = 2_000;

/** Lets the retries' sends, awaited between timers, run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Moves `clock` by `ms` in steps of 100 ms, letting every retry due on the way run. */
async function advanceBy(clock: ManualClock, ms: number): Promise<void> {
  for (let passed = 0; passed < ms; passed += 100) {
    clock.advance(100);
    await settle();
  }
}

/** The scope of a client reading queues of account 000000000000 on sqs.local. */
const SCOPE: DestinationScope = {
  origins: [new URL(INBOX).origin],
  account: new URL(INBOX).pathname.split('/')[1],
  region: 'us-east-1',
  allowed: [],
};

describe('WorkerLink', () => {
  it('follows no inbox outside its endpoint and account: a queue URL never picks where requests go', async () => {
    const lost: string[] = [];
    const sqs = fakeSqs();
    const link = new WorkerLink({ sqsClient: sqs.client, onLost: (reason) => lost.push(reason) });
    const foreign = [
      'http://attacker.example:8080/000000000000/inbox',
      `${new URL(INBOX).origin}/999999999999/inbox`,
      'file:///etc/passwd',
    ];
    for (const inbox of foreign) {
      expect(link.attach({ inbox, aliveIntervalSeconds: 1 }, SCOPE)).toEqual(expect.any(String));
      expect(link.inbox).toBeUndefined();
    }
    expect(link.attach({ inbox: INBOX }, undefined)).toBe('the transport is not started');
    expect(link.inbox).toBeUndefined();
    expect(link.attach({ inbox: INBOX }, SCOPE)).toBeUndefined();
    expect(link.inbox).toBe(INBOX);
    expect(sqs.sent).toEqual([]);
  });

  it('does nothing for a session whose worker named no inbox', () => {
    const clock = new ManualClock(0);
    const lost: string[] = [];
    const link = new WorkerLink({
      sqsClient: fakeSqs().client,
      clock,
      onLost: (reason) => lost.push(reason),
    });
    expect(link.attach({ stateless: true }, SCOPE)).toBeUndefined();
    expect(link.inbox).toBeUndefined();
    expect(link.received(sessionAliveNotification())).toBe('deliver');
    clock.advance(60_000);
    expect(lost).toEqual([]);
  });

  it('sends to the inbox, and takes a session as lost after three silent intervals while a request waits', async () => {
    const { clock, lost, link, sent } = linked();
    await link.send(outbound(request(1)));
    expect(sent).toHaveLength(1);
    clock.advance(2_999);
    expect(lost).toEqual([]);
    clock.advance(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/sent nothing for 3 s while a request waited/);
    expect(link.pendingIds()).toEqual([1]);
    expect(link.lostReason).toBe(lost[0]);
  });

  it('keeps a long call alive on the worker’s alive notices, and forgets answered requests', async () => {
    const { clock, lost, link } = linked();
    await link.send(outbound(request(7)));
    for (let second = 0; second < 20; second++) {
      clock.advance(1_000);
      expect(link.received(sessionAliveNotification())).toBe('swallow');
    }
    expect(lost).toEqual([]);
    expect(link.received({ jsonrpc: '2.0', id: 7, result: {} })).toBe('deliver');
    expect(link.pendingIds()).toEqual([]);
    // Nothing waits, so silence means nothing.
    clock.advance(600_000);
    expect(lost).toEqual([]);
  });

  it('forgets a cancelled request: no answer comes for it, so its silence means nothing', async () => {
    const { clock, lost, link } = linked();
    await link.send(outbound(request(4)));
    await link.send(
      outbound({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 4, reason: 'user' },
      }),
    );
    expect(link.pendingIds()).toEqual([]);
    clock.advance(600_000);
    expect(lost).toEqual([]);
  });

  it('counts silence from the first request after a quiet spell', async () => {
    const { clock, lost, link } = linked();
    link.received({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    clock.advance(100_000);
    await link.send(outbound(request(2)));
    clock.advance(2_900);
    expect(lost).toEqual([]);
    clock.advance(100);
    expect(lost).toHaveLength(1);
  });

  it('ends the session at once when the worker says it ended', async () => {
    const { lost, link } = linked();
    await link.send(outbound(request(3)));
    expect(link.received(sessionEndedNotification('the worker holding the session is stopping'))).toBe(
      'swallow',
    );
    expect(lost).toEqual(['the worker holding the session is stopping']);
  });

  it('delivers a worker’s "session not found" answer, then ends the session', async () => {
    const { lost, link } = linked();
    await link.send(outbound(request(4)));
    await link.send(outbound(request(5)));
    expect(link.received(sessionNotFoundError('s-1', 4))).toBe('deliver');
    expect(lost).toEqual([]);
    await Promise.resolve();
    expect(lost).toEqual(['the worker no longer holds the session']);
    expect(link.pendingIds()).toEqual([5]);
  });

  it('takes a deleted inbox as a stopped worker', async () => {
    const { lost, link } = linked({ queueGone: true });
    await expect(link.send(outbound(request(6)))).rejects.toThrow(/does not exist/);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/stopped \(its inbox .* is gone\)/);
    expect(link.pendingIds()).toEqual([]);
  });

  it('gives an inbox it reached before time to be made again (the queue service lost it)', async () => {
    const options = { queueGone: false };
    const { clock, lost, link, sent } = linked(options);
    await link.send(outbound(request(10)));
    options.queueGone = true;
    let done = false;
    const sending = link.send(outbound(request(11))).then(() => {
      done = true;
    });
    await advanceBy(clock, 500);
    expect(done).toBe(false);
    // The worker's next receive makes its inbox again.
    options.queueGone = false;
    await advanceBy(clock, 1_000);
    await sending;
    expect(done).toBe(true);
    expect(lost).toEqual([]);
    expect(sent.filter((body) => body.includes('"id":11'))).toHaveLength(1);
  });

  it('takes an inbox still missing after the grace as a stopped worker', async () => {
    const options = { queueGone: false };
    const { clock, lost, link } = linked(options);
    await link.send(outbound(request(12)));
    options.queueGone = true;
    const failed = link.send(outbound(request(13))).then(
      () => 'sent',
      (error: unknown) => String(error),
    );
    await advanceBy(clock, GRACE_MS - 100);
    expect(lost).toEqual([]);
    await advanceBy(clock, 200);
    expect(await failed).toMatch(/does not exist/);
    expect(lost).toEqual([expect.stringMatching(/stopped \(its inbox .* is gone\)/)]);
  });

  it('reports nothing once closed', async () => {
    const { clock, lost, link } = linked();
    await link.send(outbound(request(8)));
    link.close();
    clock.advance(60_000);
    expect(lost).toEqual([]);
  });
});
