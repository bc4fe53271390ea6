import type { Disposition, Logger, QueueMessage } from '@asyncmcp/core';
import type { SqsControlMessage, SqsControlMessageHandler } from './sqs-channels.js';

/**
 * What every reader does with an SNS control message on its queue: the handler it was given decides, and
 * without one the message is logged and deleted (nothing here can confirm a subscription).
 */
export function handleControlMessage(
  control: SqsControlMessage,
  queued: QueueMessage,
  handler: SqsControlMessageHandler | undefined,
  logger: Logger,
): Disposition | Promise<Disposition> {
  if (handler) return handler(control, queued);
  logger.info({ kind: control.kind, topicArn: control.topicArn }, 'SNS control message deleted');
  return 'delete';
}
