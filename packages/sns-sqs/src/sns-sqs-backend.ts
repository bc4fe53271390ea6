import { randomBytes } from 'node:crypto';
import {
  type BackendFleet,
  type BackendTransportContext,
  ConfigurationError,
  pickQueuePolling,
  silentLogger,
  type Transport,
} from '@asyncmcp/core';
import { type SqsBackendStats, type SqsChannelBackend, sqsChannelBackend } from '@asyncmcp/sqs';
import { SnsSqsBackendChannel } from './sns-sqs-backend-channel.js';
import type { SnsSqsBackendOptions } from './sns-sqs-backend-options.js';
import { subscriptionConfirmer } from './sns-subscription-confirmer.js';

export type { SnsSqsBackendOptions };

export interface SnsSqsBackend extends SqsChannelBackend<'sns-sqs'> {
  /** The response topic in use: the one given, or once started, the one created. */
  readonly responseTopicArn: string | undefined;
  /** The prefix of every session id this backend proposes. */
  readonly instanceId: string;
}

const INSTANCE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The gateway backend over SNS+SQS (PROTOCOL.md §2, §7): publishes every session's messages to the
 * servers' request topic and reads every answer from ONE queue subscribed to its response topic, routing
 * each to its session exactly as `sqsBackend` does (gateway-unique request ids, then session ids).
 */
export function snsSqsBackend(options: SnsSqsBackendOptions): SnsSqsBackend {
  if (!options.requestTopicArn) throw new ConfigurationError('snsSqsBackend needs a requestTopicArn');
  const instanceId = options.instanceId ?? randomBytes(4).toString('hex');
  if (!INSTANCE_ID.test(instanceId)) {
    throw new ConfigurationError(
      `snsSqsBackend instanceId "${instanceId}" must be 1-64 letters, digits, "-" or "_"`,
    );
  }
  const logger = options.logger ?? silentLogger;
  const channel = new SnsSqsBackendChannel({ ...options, instanceId, logger });
  const backend = sqsChannelBackend({
    name: 'sns-sqs',
    sqsClient: options.sqsClient,
    channel,
    clientId: options.clientId,
    ...pickQueuePolling(options),
    messageAttributes: options.messageAttributes,
    signingSecret: options.signingSecret,
    signatureToleranceSeconds: options.signatureToleranceSeconds,
    onControlMessage: subscriptionConfirmer(options.snsClient, options, logger),
    logger,
  });
  return new SnsSqsBackendImpl(backend, channel);
}

/** The generic SQS-reading backend, with what only the SNS channel knows added. */
class SnsSqsBackendImpl implements SnsSqsBackend {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'sns-sqs' as const;

  constructor(
    private readonly backend: SqsChannelBackend<'sns-sqs'>,
    private readonly channel: SnsSqsBackendChannel,
  ) {}

  get responseTopicArn(): string | undefined {
    return this.channel.topicArn;
  }

  get instanceId(): string {
    return this.channel.instanceId;
  }

  get responseQueueUrl(): string | undefined {
    return this.backend.responseQueueUrl;
  }

  get stats(): SqsBackendStats {
    return this.backend.stats;
  }

  get fleet(): BackendFleet | undefined {
    return this.backend.fleet;
  }

  start(): Promise<void> {
    return this.backend.start();
  }

  createTransport(context: BackendTransportContext): Promise<Transport> {
    return Promise.resolve(this.backend.createTransport(context));
  }

  checkReady(): Promise<void> {
    return this.backend.checkReady();
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}
