import { DeliveryError, type QueueMessage, type QueueSource } from '@asyncmcp/core';
import { RecordingLogger } from '@asyncmcp/core/testing';
import { describe, expect, it } from 'vitest';
import { RecoveringQueueSource } from './recovering-queue-source.js';

/** A queue whose receives fail while `failure` is set. */
function fakeQueue() {
  const state: { failure: Error | undefined } = { failure: undefined };
  const source: QueueSource = {
    description: 'https://sqs.local/000/asyncmcp-gateway-1',
    receive: async () => {
      if (state.failure) throw state.failure;
      return [] as QueueMessage[];
    },
    delete: async () => undefined,
    changeVisibility: async () => undefined,
  };
  return { state, source };
}

const RECEIVE = {
  maxMessages: 10,
  waitTimeSeconds: 0,
  visibilityTimeoutSeconds: 30,
  signal: new AbortController().signal,
};
const unreachable = () => new DeliveryError({ message: 'SQS endpoint unreachable during ReceiveMessage' });
const missing = () => new DeliveryError({ message: 'queue does not exist', destinationGone: true });

describe('RecoveringQueueSource', () => {
  function recovering() {
    const { state, source } = fakeQueue();
    const logger = new RecordingLogger();
    let remade = 0;
    const queue = new RecoveringQueueSource(source, {
      remake: async () => {
        remade++;
      },
      what: 'gateway response queue',
      logger,
    });
    return { state, queue, logger, remade: () => remade };
  }

  it('makes the queue again when a receive finds it missing', async () => {
    const { state, queue, logger, remade } = recovering();
    state.failure = missing();
    await expect(queue.receive(RECEIVE)).rejects.toThrow(/does not exist/);
    expect(remade()).toBe(1);
    expect(logger.entries.map((entry) => entry.message)).toContain(
      'made the gateway response queue again: the queue service no longer had it',
    );
  });

  it('makes sure of the queue before a send once told another queue of the service failed', async () => {
    const { queue, remade } = recovering();
    queue.doubt();
    await queue.ensure();
    expect(remade()).toBe(1);
    // Made again: no doubt is left until something fails again.
    await queue.ensure();
    expect(remade()).toBe(1);
  });

  it('makes sure of the queue before a send only after a receive failed, once', async () => {
    const { state, queue, logger, remade } = recovering();
    await queue.ensure();
    expect(remade()).toBe(0);
    // The queue service went away: the receive cannot say whether the queue will be there when it is back.
    state.failure = unreachable();
    await expect(queue.receive(RECEIVE)).rejects.toThrow(/unreachable/);
    expect(remade()).toBe(0);
    state.failure = undefined;
    await Promise.all([queue.ensure(), queue.ensure()]);
    expect(remade()).toBe(1);
    expect(logger.entries.map((entry) => entry.message)).toContain(
      'made sure the gateway response queue exists: a receive had failed',
    );
    await queue.ensure();
    expect(remade()).toBe(1);
  });

  it('stops doubting once a receive works again', async () => {
    const { state, queue, remade } = recovering();
    state.failure = unreachable();
    await expect(queue.receive(RECEIVE)).rejects.toThrow(/unreachable/);
    state.failure = undefined;
    await queue.receive(RECEIVE);
    await queue.ensure();
    expect(remade()).toBe(0);
  });
});
