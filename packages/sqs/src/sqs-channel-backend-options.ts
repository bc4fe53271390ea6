import type { Backend, Logger, QueuePollingOptions } from '@asyncmcp/core';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SqsBackendChannel, SqsControlMessageHandler } from './sqs-channels.js';
import type { SqsSigningOptions } from './sqs-signing.js';

/**
 * With `signingSecret`, what the channel sends must be signed too: give the channel a sender or publisher
 * with the same secret (`sqsBackend` and `snsSqsBackend` do).
 */
export interface SqsChannelBackendOptions<N extends string> extends SqsSigningOptions, QueuePollingOptions {
  /** The backend's name in logs and metrics, e.g. `sns-sqs`. */
  name: N;
  /** Reads the response queue the channel opens. */
  sqsClient: SQSClient;
  /** How requests reach the servers and where their answers come back. */
  channel: SqsBackendChannel;
  /** Sent as `ClientId` on every message. @default 'asyncmcp-gateway-' plus random hex */
  clientId?: string;
  /** Extra attributes on every message; at most 3 (1 with `signingSecret`). */
  messageAttributes?: Record<string, string>;
  /** What to do with SNS control messages on the response queue. @default log and delete them */
  onControlMessage?: SqsControlMessageHandler;
  logger?: Logger;
}

export type SqsBackendStats = {
  /** Answers and server messages delivered to a gateway session. */
  routed: number;
  /** Messages that matched no live session (late, duplicate, after close): dropped with a log line. */
  unroutable: number;
  /** Messages on the response queue that were not JSON-RPC. */
  invalid: number;
  /** With `signingSecret`: messages on the response queue refused for their signature (deleted unread). */
  refused: number;
  /**
   * Answers dropped because no request of this gateway has their id, or because they came under another
   * session's id than the one asked: forged, late or duplicate. Never delivered to a client.
   */
  unmatched: number;
};

export interface SqsChannelBackend<N extends string = string> extends Backend {
  readonly name: N;
  /** The response queue in use, once started. */
  readonly responseQueueUrl: string | undefined;
  readonly stats: SqsBackendStats;
  /** Opens the channel (making what is missing) and starts polling. `createTransport` calls this. */
  start(): Promise<void>;
  /** Resolves when the servers' channel can be reached and the response queue is being read. */
  checkReady(): Promise<void>;
}
