import { SnsSqsSessionManager } from '@asyncmcp/sns-sqs';
import { SqsSessionManager } from '@asyncmcp/sqs';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * A small async MCP server for the end-to-end tests, run in the test process on an SQS request
 * queue (or, given an SNS client, on a queue subscribed to an SNS request topic, answering on each
 * client's topic), so the CLI under test is the only thing between the client and it.
 */
export class TestServer {
  /** Resolves each time a `hold` call starts; re-armed after every call. */
  holdStarted: Promise<void>;
  #markHoldStarted!: () => void;
  #releases: Array<() => void> = [];
  manager: SqsSessionManager | undefined;

  constructor() {
    this.holdStarted = this.#armHold();
  }

  #armHold(): Promise<void> {
    return new Promise((resolve) => {
      this.#markHoldStarted = resolve;
    });
  }

  createServer = (): McpServer => {
    const server = new McpServer({ name: 'cli-test-server', version: '1.0.0' });
    server.registerTool(
      'greet',
      { description: 'Greets', inputSchema: { name: z.string() } },
      async ({ name }) => ({ content: [{ type: 'text', text: `hello ${name}, from the test server` }] }),
    );
    server.registerTool('hold', { description: 'Answers only when the test releases it' }, async () => {
      await new Promise<void>((resolve) => {
        this.#releases.push(resolve);
        this.#markHoldStarted();
        this.holdStarted = this.#armHold();
      });
      return { content: [{ type: 'text', text: 'released' }] };
    });
    return server;
  };

  async start(options: {
    sqsClient: SQSClient;
    requestQueueUrl: string;
    snsClient?: SNSClient;
  }): Promise<void> {
    const managerOptions = {
      sqsClient: options.sqsClient,
      requestQueueUrl: options.requestQueueUrl,
      createServer: this.createServer,
      waitTimeSeconds: 1,
    };
    this.manager =
      options.snsClient === undefined
        ? new SqsSessionManager(managerOptions)
        : new SnsSqsSessionManager({ ...managerOptions, snsClient: options.snsClient });
    await this.manager.start();
  }

  /** Lets every held call answer. */
  releaseAll(): void {
    for (const release of this.#releases.splice(0)) release();
  }

  async close(): Promise<void> {
    this.releaseAll();
    await this.manager?.close();
  }
}

export function textOf(result: unknown): string {
  const content = (result as CallToolResult).content;
  const first = content[0];
  return first?.type === 'text' ? first.text : '';
}
