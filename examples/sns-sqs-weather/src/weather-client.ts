import { SnsSqsClientTransport } from '@asyncmcp/sns-sqs';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';

/** Connects an ordinary SDK Client over SNS+SQS and asks for a forecast. */
export async function askForecast(options: {
  snsClient: SNSClient;
  sqsClient: SQSClient;
  /** The server's topic: the client publishes there. */
  requestTopicArn: string;
  /** This client's topic: the server publishes the session's answers there. */
  responseTopicArn: string;
  /** This client's queue, subscribed to its topic: the client reads it. */
  responseQueueUrl: string;
  city: string;
}): Promise<{ sessionId: string | undefined; tools: string[]; answer: string }> {
  const transport = new SnsSqsClientTransport({
    snsClient: options.snsClient,
    sqsClient: options.sqsClient,
    requestTopicArn: options.requestTopicArn,
    responseTopicArn: options.responseTopicArn,
    responseQueueUrl: options.responseQueueUrl,
  });
  const client = new Client({ name: 'weather-client', version: '1.0.0' });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    const result = await client.callTool({ name: 'forecast', arguments: { city: options.city } });
    const content = result.content as Array<{ type: string; text?: string }>;
    return {
      sessionId: transport.sessionId,
      tools: tools.map((tool) => tool.name),
      answer: content.map((part) => part.text ?? '').join(''),
    };
  } finally {
    await client.close();
  }
}
