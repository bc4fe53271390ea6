import { SnsSqsSessionManager } from '@asyncmcp/sns-sqs';
import { SqsSessionManager } from '@asyncmcp/sqs';
import type { SqsEmulator } from '@asyncmcp-internal/test-support';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll } from 'vitest';
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

  /** Starts serving on `requestQueueUrl` of `emulator`; `overTopic` answers on each client's topic (sns-sqs). */
  async start(emulator: SqsEmulator, requestQueueUrl: string, overTopic: boolean): Promise<void> {
    const { sqsClient, snsClient } = emulator;
    const options = { sqsClient, requestQueueUrl, createServer: this.createServer, waitTimeSeconds: 1 };
    this.manager = overTopic
      ? new SnsSqsSessionManager({ ...options, snsClient })
      : new SqsSessionManager(options);
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

/** Where the tests of a `describe` reach their TestServer. */
export interface TestServerOnQueue {
  readonly server: TestServer;
  /** The queue the server reads requests from. */
  readonly requestQueueUrl: string;
  /** With `overTopic`: the topic the queue is subscribed to, where gateways publish. */
  readonly requestTopicArn: string;
}

/**
 * The TestServer on a new request queue of `emulator` for the tests of the calling `describe`: started
 * before them, closed after them, its held calls released after each. With `overTopic` the queue is
 * subscribed, without raw delivery (the server unwraps SNS envelopes), to a new request topic. Call it
 * after `useCliEmulator` and `useGatewayClients`: after-hooks run newest first, so held calls are released
 * before the clients close, and the server is closed before the emulator stops.
 */
export function useTestServer(
  emulator: SqsEmulator,
  prefix: string,
  { overTopic = false }: { overTopic?: boolean } = {},
): TestServerOnQueue {
  const server = new TestServer();
  let requestQueueUrl: string | undefined;
  let requestTopicArn: string | undefined;
  beforeAll(async () => {
    requestQueueUrl = await emulator.createQueue(prefix);
    if (overTopic) {
      requestTopicArn = await emulator.createTopic(prefix);
      await emulator.subscribe(requestTopicArn, requestQueueUrl);
    }
    await server.start(emulator, requestQueueUrl, overTopic);
  });
  afterEach(() => server.releaseAll());
  afterAll(() => server.close());
  const made = (value: string | undefined, what: string): string => {
    if (value === undefined)
      throw new Error(`the test server's ${what} is used outside the tests it was made for`);
    return value;
  };
  return {
    server,
    get requestQueueUrl() {
      return made(requestQueueUrl, 'request queue');
    },
    get requestTopicArn() {
      return made(requestTopicArn, 'request topic');
    },
  };
}

export function textOf(result: unknown): string {
  const content = (result as CallToolResult).content;
  const first = content[0];
  return first?.type === 'text' ? first.text : '';
}
