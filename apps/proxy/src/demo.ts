import type { Logger } from '@asyncmcp/core';
import { createProxyServer } from '@asyncmcp/proxy';
import { sqsBackend } from '@asyncmcp/sqs';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { DEMO_TOOLS, startDemoServer } from './demo-server.js';
import { ListenError } from './gateway.js';

export interface RunningDemo {
  readonly url: string;
  /** Stops the gateway, the demo server and the emulator, in that order. */
  close(): Promise<void>;
}

/**
 * Everything on one machine, no AWS account: an SQS emulator in this process, the demo MCP server on
 * its request queue, and the gateway in front, exactly as it runs against real SQS.
 */
export async function startDemo(options: {
  host: string;
  port: number;
  logger: Logger;
}): Promise<RunningDemo> {
  const { logger } = options;
  const emulator = await startFauxqs({ port: 0, logger: false });
  const cleanups: Array<() => Promise<void> | void> = [() => emulator.stop()];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await Promise.resolve()
        .then(cleanup)
        .catch(() => undefined);
    }
  };
  try {
    const sqsClient = new SQSClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${emulator.port}`,
      // The emulator checks nothing; fixed credentials keep the SDK from looking for real ones.
      credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
    });
    cleanups.push(() => sqsClient.destroy());
    const created = await sqsClient.send(new CreateQueueCommand({ QueueName: 'asyncmcp-demo-requests' }));
    const requestQueueUrl = created.QueueUrl as string;

    const manager = await startDemoServer({ sqsClient, requestQueueUrl, logger });
    cleanups.push(() => manager.close());

    const proxy = createProxyServer({
      backend: sqsBackend({ sqsClient, requestQueueUrl, logger }),
      host: options.host,
      port: options.port,
      logger,
    });
    cleanups.push(() => proxy.close());
    let url: string;
    try {
      ({ url } = await proxy.listen());
    } catch (error) {
      throw new ListenError(options, error);
    }
    return { url, close: cleanUp };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** What the demo prints for a person: where to point a client, and how. */
export function demoBanner(url: string): string {
  const clientConfig = JSON.stringify({ mcpServers: { 'asyncmcp-demo': { type: 'http', url } } });
  return [
    '',
    'asyncmcp demo: an MCP server on a local SQS queue, behind the asyncmcp gateway.',
    '',
    `  MCP endpoint:  ${url}`,
    `  Tools:         ${DEMO_TOOLS.join(', ')}`,
    '',
    'Client configuration (any MCP client that speaks Streamable HTTP):',
    '',
    `  ${clientConfig}`,
    '',
    'List the tools with the MCP Inspector (it needs Node.js 22 or newer):',
    '',
    `  npx @modelcontextprotocol/inspector --cli ${url} --transport http --method tools/list`,
    '',
    'Clients that only launch stdio servers can reach it through mcp-remote:',
    '',
    `  {"mcpServers":{"asyncmcp-demo":{"command":"npx","args":["mcp-remote","${url}"]}}}`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
