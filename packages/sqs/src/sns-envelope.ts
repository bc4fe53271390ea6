import type { MessageAttributes, QueueMessage } from '@asyncmcp/core';
import { fromSqsAttributes, type ReceivedSqsAttributes } from './sqs-attributes.js';

/**
 * SNS delivers to an SQS queue either the message as published (raw delivery) or wrapped in a JSON
 * notification envelope (PROTOCOL.md §2). Everything that reads a queue an SNS topic may feed reads
 * through here, so both look the same to the rest of the package.
 */

export type UnwrappedBody =
  | { kind: 'message'; body: string; attributes: Record<string, string>; fromSnsEnvelope: boolean }
  | {
      kind: 'subscription-confirmation';
      subscribeUrl: string | undefined;
      topicArn: string | undefined;
      /** What `ConfirmSubscription` takes to confirm it. */
      token: string | undefined;
    }
  | { kind: 'unsubscribe-confirmation'; topicArn: string | undefined };

/**
 * Unwraps an SQS body that may be an SNS envelope (PROTOCOL.md §2): a JSON object with both `Type` and
 * `Message` carries the JSON-RPC text in `Message` and may carry attributes; SQS attributes win over
 * envelope attributes of the same name. Anything else is returned as the raw body.
 */
export function unwrapSnsEnvelope(
  body: string,
  sqsAttributes: Readonly<MessageAttributes> = {},
): UnwrappedBody {
  const attributes: MessageAttributes = { ...sqsAttributes };
  // Cheap test first: a JSON-RPC body never has a top-level "Type".
  if (!body.includes('"Type"')) return { kind: 'message', body, attributes, fromSnsEnvelope: false };
  let envelope: unknown;
  try {
    envelope = JSON.parse(body);
  } catch {
    return { kind: 'message', body, attributes, fromSnsEnvelope: false };
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    return { kind: 'message', body, attributes, fromSnsEnvelope: false };
  }
  const record = envelope as Record<string, unknown>;
  if (typeof record.Type !== 'string' || !('Message' in record)) {
    return { kind: 'message', body, attributes, fromSnsEnvelope: false };
  }
  const topicArn = typeof record.TopicArn === 'string' ? record.TopicArn : undefined;
  if (record.Type === 'SubscriptionConfirmation') {
    const subscribeUrl = typeof record.SubscribeURL === 'string' ? record.SubscribeURL : undefined;
    const token = typeof record.Token === 'string' ? record.Token : undefined;
    return { kind: 'subscription-confirmation', subscribeUrl, topicArn, token };
  }
  if (record.Type === 'UnsubscribeConfirmation') return { kind: 'unsubscribe-confirmation', topicArn };
  const inner = fromSqsAttributes(record.MessageAttributes as ReceivedSqsAttributes | undefined);
  for (const [name, value] of Object.entries(inner)) {
    if (!Object.hasOwn(attributes, name)) attributes[name] = value;
  }
  const message = typeof record.Message === 'string' ? record.Message : JSON.stringify(record.Message);
  return { kind: 'message', body: message, attributes, fromSnsEnvelope: true };
}

/**
 * Each received message unwrapped once: a poller asks for a message's session (to order it) before
 * handling it, and parsing the envelope twice would cost a JSON parse per message for nothing.
 */
export class SnsEnvelopeUnwrapper {
  readonly #unwrapped = new WeakMap<QueueMessage, UnwrappedBody>();

  unwrap(message: QueueMessage): UnwrappedBody {
    let unwrapped = this.#unwrapped.get(message);
    if (!unwrapped) {
      unwrapped = unwrapSnsEnvelope(message.body, message.attributes);
      this.#unwrapped.set(message, unwrapped);
    }
    return unwrapped;
  }
}

/** What a signature covers in a queued message: the JSON-RPC text and attributes, inside any envelope. */
export function snsSignedContent(
  message: QueueMessage,
): { body: string; attributes: Record<string, string> } | undefined {
  const unwrapped = unwrapSnsEnvelope(message.body, message.attributes);
  // SNS control messages are SNS's own: nobody signs them, and the control handler checks them.
  return unwrapped.kind === 'message' ? unwrapped : undefined;
}
