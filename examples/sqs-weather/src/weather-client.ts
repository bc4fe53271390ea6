import { SqsClientTransport } from '@asyncmcp/sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';

/** Connects an ordinary SDK Client over SQS and asks for a forecast. */
export async function askForecast(options: {
  sqsClient: SQSClient;
  requestQueueUrl: string;
  responseQueueUrl: string;
  city: string;
}): Promise<{ sessionId: string | undefined; tools: string[]; answer: string }> {
  const transport = new SqsClientTransport({
    sqsClient: options.sqsClient,
    requestQueueUrl: options.requestQueueUrl,
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
