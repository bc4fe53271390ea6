import { type MessageSigning, MetaKey, readMeta } from '@asyncmcp/core';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SqsReplyChannel, SqsRequestChannel } from './sqs-channels.js';
import { SqsSender } from './sqs-queue.js';

/** What the SQS channels need: the client, and the size limit checked before a send. */
interface SqsChannelOptions {
  sqsClient: SQSClient;
  maxMessageBytes?: number | undefined;
}

/** The default request channel: the server's SQS request queue, answered on `_meta.responseQueueUrl`. */
export function sqsRequestChannel(
  options: SqsChannelOptions & { requestQueueUrl: string; responseQueueUrl: string },
  signing: MessageSigning | undefined,
): SqsRequestChannel {
  const sender = new SqsSender(options.sqsClient, { signer: signing?.signer });
  return {
    meta: { [MetaKey.ResponseQueueUrl]: options.responseQueueUrl },
    send: (outbound) =>
      sender.send({
        ...outbound,
        queueUrl: options.requestQueueUrl,
        maxMessageBytes: options.maxMessageBytes,
      }),
  };
}

/** The default reply channel: the SQS queue each client names in `_meta.responseQueueUrl`. */
export function sqsReplyChannel(
  options: SqsChannelOptions,
  signing: MessageSigning | undefined,
): SqsReplyChannel {
  const sender = new SqsSender(options.sqsClient, { signer: signing?.signer });
  return {
    addressDescription: `_meta.${MetaKey.ResponseQueueUrl}`,
    addressOf: (initialize) => readMeta(initialize, MetaKey.ResponseQueueUrl),
    send: (outbound, queueUrl) =>
      sender.send({ ...outbound, queueUrl, maxMessageBytes: options.maxMessageBytes }),
  };
}
