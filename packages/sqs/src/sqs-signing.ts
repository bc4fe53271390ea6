import {
  CLIENT_RESERVED_ATTRIBUTE_COUNT,
  createMessageSigning,
  type Logger,
  type MessageSigning,
  type QueueMessage,
  type QueueSource,
  SIGNATURE_ATTRIBUTE_COUNT,
  type SignatureRefusal,
  type SigningSecret,
  VerifiedQueueSource,
  validateCustomAttributes,
} from '@asyncmcp/core';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { snsSignedContent } from './sns-envelope.js';
import { SqsQueueSource } from './sqs-queue.js';

/** The signing options every SQS and SNS+SQS client, server and gateway backend takes. */
export interface SqsSigningOptions {
  /**
   * A secret shared by every client, gateway and server of the queues (`whsec_<base64>`, or any string
   * of 16 bytes or more). Each message sent is signed — its body and every message attribute, with a
   * timestamp and a unique id (docs/protocol.md §8, "Signature") — and each message read must be: an
   * unsigned, forged, stale or replayed one is logged, dead-lettered when a dead-letter queue is
   * configured, else deleted, and never handled. Python peers do not sign, so set it only when every
   * peer is ours. @default none: messages go unsigned, and none is checked
   */
  signingSecret?: SigningSecret;
  /**
   * How far a message's signed `Timestamp` may be from this process's clock, either way. It also bounds
   * how long a message may wait on a queue before it is first read. @default 300
   */
  signatureToleranceSeconds?: number;
}

/** The signer and verifier of these options; undefined when no secret is set. */
export function sqsMessageSigning(options: SqsSigningOptions): MessageSigning | undefined {
  return createMessageSigning({
    secret: options.signingSecret,
    toleranceSeconds: options.signatureToleranceSeconds,
  });
}

/**
 * Checks, once at configuration time, that a client's custom attributes leave room for the signature's
 * two attributes as well as the protocol's own.
 */
export function validateSignedCustomAttributes(
  signing: MessageSigning | undefined,
  custom: Readonly<Record<string, string>> | undefined,
): void {
  if (signing) validateCustomAttributes(custom, CLIENT_RESERVED_ATTRIBUTE_COUNT + SIGNATURE_ATTRIBUTE_COUNT);
}

/**
 * The source a reader polls: the queue itself, or with signing, the queue with every message that is not
 * signed with the secret taken out before anything handles it.
 */
export function readableQueue(
  sqsClient: SQSClient,
  queueUrl: string,
  signing: MessageSigning | undefined,
  options: {
    logger: Logger;
    deadLetter?: ((message: QueueMessage, reason: SignatureRefusal) => Promise<boolean>) | undefined;
    /** Counts each refusal (a message put off while the replay memory is full is not one). */
    onRefused?: (reason: SignatureRefusal) => void;
  },
): QueueSource {
  const source = new SqsQueueSource(sqsClient, queueUrl);
  if (!signing) return source;
  return new VerifiedQueueSource({
    source,
    verifier: signing.verifier,
    logger: options.logger,
    deadLetter: options.deadLetter,
    onRefused: options.onRefused,
    signedContent: snsSignedContent,
  });
}
