import { describe, expect, it } from 'vitest';
import { buildClientAttributes, type MessageAttributes } from './envelope.js';
import { MessageSigner, MessageVerifier } from './message-signing.js';
import type { QueueMessage, QueueSource } from './queue-consumer.js';
import { VerifiedQueueSource } from './verified-queue-source.js';

const SECRET = 'whsec_YSBzZWNyZXQgb2Ygc2l4dGVlbiBieXRlcyBvciBtb3Jl';
const BODY = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"count"}}';

/** A queue that hands out what it holds once, and records what was deleted. */
class FakeQueue implements QueueSource {
  readonly description = 'fake-queue';
  readonly deleted: string[] = [];
  constructor(private messages: QueueMessage[]) {}
  async receive(): Promise<QueueMessage[]> {
    const out = this.messages;
    this.messages = [];
    return out;
  }
  async delete(message: QueueMessage): Promise<void> {
    this.deleted.push(message.messageId);
  }
  async changeVisibility(): Promise<void> {}
}

function attributes(): MessageAttributes {
  return buildClientAttributes({
    message: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'count' } },
    clientId: 'c',
    sessionId: 's',
  });
}

function queued(messageId: string, attrs: MessageAttributes, body = BODY): QueueMessage {
  return { messageId, receiptHandle: `r-${messageId}`, body, attributes: attrs };
}

const RECEIVE = {
  maxMessages: 10,
  waitTimeSeconds: 0,
  visibilityTimeoutSeconds: 30,
  signal: new AbortController().signal,
};

describe('VerifiedQueueSource', () => {
  it('hands out signed messages and deletes the rest unread: unsigned, forged, replayed', async () => {
    const signed = new MessageSigner({ secret: SECRET }).sign(BODY, attributes());
    const forged = new MessageSigner({ secret: 'whsec_YW5vdGhlciBzZWNyZXQsIGFsc28gbG9uZyBlbm91Z2g=' }).sign(
      BODY,
      attributes(),
    );
    const queue = new FakeQueue([
      queued('good', signed),
      queued('unsigned', attributes()),
      queued('forged', forged),
      queued('replay', signed),
    ]);
    const refusals: string[] = [];
    const source = new VerifiedQueueSource({
      source: queue,
      verifier: new MessageVerifier({ secret: SECRET }),
      onRefused: (reason) => refusals.push(reason),
    });
    const out = await source.receive(RECEIVE);
    expect(out.map((message) => message.messageId)).toEqual(['good']);
    expect(queue.deleted).toEqual(['unsigned', 'forged', 'replay']);
    expect(refusals).toEqual(['unsigned', 'forged', 'replayed']);
    expect(source.refused).toMatchObject({ unsigned: 1, forged: 1, replayed: 1, stale: 0 });
  });

  it('dead-letters a refused message before deleting it, and keeps it when the copy failed', async () => {
    const queue = new FakeQueue([queued('one', attributes()), queued('two', attributes())]);
    const copied: string[] = [];
    const source = new VerifiedQueueSource({
      source: queue,
      verifier: new MessageVerifier({ secret: SECRET }),
      deadLetter: async (message) => {
        if (message.messageId === 'two') return false;
        copied.push(message.messageId);
        return true;
      },
    });
    expect(await source.receive(RECEIVE)).toEqual([]);
    expect(copied).toEqual(['one']);
    expect(queue.deleted).toEqual(['one']);
  });

  it('leaves a message on the queue, neither handed out nor deleted, while the replay memory is full', async () => {
    const signer = new MessageSigner({ secret: SECRET });
    const queue = new FakeQueue([
      queued('first', signer.sign(BODY, attributes())),
      queued('second', signer.sign(BODY, attributes())),
    ]);
    const source = new VerifiedQueueSource({
      source: queue,
      verifier: new MessageVerifier({ secret: SECRET, replayMemory: 1 }),
    });
    expect((await source.receive(RECEIVE)).map((message) => message.messageId)).toEqual(['first']);
    expect(queue.deleted).toEqual([]);
    expect(source.refused.busy).toBe(1);
  });
});
