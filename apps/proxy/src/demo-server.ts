import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@asyncmcp/core';
import { SnsSqsSessionManager } from '@asyncmcp/sns-sqs';
import { SqsSessionManager } from '@asyncmcp/sqs';
import { HybridSessionManager, WebhookSessionManager } from '@asyncmcp/webhook';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { z } from 'zod';

type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export const DEMO_TOOLS = ['echo', 'add', 'forecast', 'countdown', 'slow_task'] as const;

/** With the hybrid backend, the tools whose answers the server POSTs to the gateway's webhook. */
export const DEMO_WEBHOOK_TOOLS = ['countdown', 'slow_task'] as const;

// One for every session's server (the demo elicits nothing, so it compiles no schema): each server
// would otherwise build a JSON Schema validator of its own, a third of a worker's CPU per session opened.
const jsonSchemaValidator = new AjvJsonSchemaValidator();

/**
 * The demo's MCP server: an ordinary McpServer, unaware that a queue carries its traffic. Its tools
 * show what async transports are for: answers that take a while, with progress and log messages on
 * the way.
 */
export function createDemoServer(): McpServer {
  const server = new McpServer(
    { name: 'asyncmcp-demo', version: '1.0.0' },
    {
      jsonSchemaValidator,
      capabilities: { logging: {} },
      instructions:
        'Example tools served by asyncmcp over an asynchronous transport (SQS, SNS+SQS or webhooks).',
    },
  );

  server.registerTool(
    'echo',
    { description: 'Returns the text it is given', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );

  server.registerTool(
    'add',
    { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => ({
      content: [{ type: 'text', text: String(a + b) }],
      structuredContent: { sum: a + b },
    }),
  );

  server.registerTool(
    'forecast',
    {
      description: 'A made-up weather forecast for a city, the same every time for the same city',
      inputSchema: { city: z.string().min(1), days: z.number().int().min(1).max(7).default(3) },
    },
    async ({ city, days }) => {
      const lines = forecastFor(city, days).map(
        (day) => `day ${day.day}: ${day.sky}, ${day.low}–${day.high} °C`,
      );
      return { content: [{ type: 'text', text: `${city}\n${lines.join('\n')}` }] };
    },
  );

  server.registerTool(
    'countdown',
    {
      description: 'Counts down to zero, sending a progress notification and a log message at every step',
      inputSchema: {
        from: z.number().int().min(1).max(20).default(5),
        intervalMs: z.number().int().min(0).max(5_000).default(1_000),
      },
    },
    async ({ from, intervalMs }, extra) => {
      for (let remaining = from; remaining > 0; remaining--) {
        await log(extra, 'info', `T-${remaining}`);
        await progress(extra, from - remaining + 1, from, `${remaining} to go`);
        await sleep(intervalMs, undefined, { signal: extra.signal });
      }
      await log(extra, 'notice', 'liftoff');
      return { content: [{ type: 'text', text: `Liftoff after counting down from ${from}!` }] };
    },
  );

  server.registerTool(
    'slow_task',
    {
      description: 'Works for a few seconds, reporting progress every second; can be cancelled',
      inputSchema: { seconds: z.number().int().min(1).max(60).default(5) },
    },
    async ({ seconds }, extra) => {
      const started = Date.now();
      for (let done = 0; done < seconds; done++) {
        await progress(extra, done, seconds, `working: ${done} of ${seconds} s`);
        await sleep(1_000, undefined, { signal: extra.signal });
      }
      await progress(extra, seconds, seconds, 'done');
      return {
        content: [{ type: 'text', text: `Finished a ${seconds}-second task in ${Date.now() - started} ms.` }],
      };
    },
  );

  return server;
}

/**
 * Serves the demo server on a request queue until `close()` is called: an SQS request queue answered
 * on each client's response queue or, given an SNS client, a queue subscribed to the request topic
 * answered on each client's response topic.
 */
export async function startDemoServer(options: {
  sqsClient: SQSClient;
  /** Publishes answers to each client's topic: the sns-sqs server. */
  snsClient?: SNSClient;
  requestQueueUrl: string;
  logger?: Logger;
}): Promise<SqsSessionManager> {
  const managerOptions = {
    sqsClient: options.sqsClient,
    requestQueueUrl: options.requestQueueUrl,
    createServer: createDemoServer,
    logger: options.logger,
  };
  const manager =
    options.snsClient === undefined
      ? new SqsSessionManager(managerOptions)
      : new SnsSqsSessionManager({ ...managerOptions, snsClient: options.snsClient });
  await manager.start();
  return manager;
}

/**
 * Serves the demo server over HTTP on loopback until `close()`: a webhook server answering on each
 * client's webhook, or a hybrid whose slow tools (DEMO_WEBHOOK_TOOLS) answer on it. Everything is on
 * this machine, so the SSRF guard lets loopback webhooks through (`allowPrivateNetworks`).
 */
export async function startDemoHttpServer(options: {
  backend: 'webhook' | 'hybrid';
  logger?: Logger;
}): Promise<{ url: string; close(): Promise<void> }> {
  const common = { createServer: createDemoServer, allowPrivateNetworks: true, logger: options.logger };
  const manager =
    options.backend === 'webhook'
      ? new WebhookSessionManager(common)
      : new HybridSessionManager({
          ...common,
          webhookTools: DEMO_WEBHOOK_TOOLS,
          // The gateway proposes its own session ids: adopting them names each session alike in both logs.
          adoptProposedSessionIds: true,
        });
  try {
    const url = await manager.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => manager.close() };
  } catch (error) {
    await manager.close().catch(() => undefined);
    throw error;
  }
}

async function progress(extra: ToolExtra, done: number, total: number, message: string): Promise<void> {
  const progressToken = extra._meta?.progressToken;
  if (progressToken === undefined) return;
  await extra.sendNotification({
    method: 'notifications/progress',
    params: { progressToken, progress: done, total, message },
  });
}

async function log(extra: ToolExtra, level: 'info' | 'notice', data: string): Promise<void> {
  await extra.sendNotification({ method: 'notifications/message', params: { level, logger: 'demo', data } });
}

const SKIES = ['sunny', 'partly cloudy', 'cloudy', 'light rain', 'showers', 'windy'] as const;

function forecastFor(
  city: string,
  days: number,
): Array<{ day: number; sky: string; low: number; high: number }> {
  let seed = 0;
  for (const char of city.toLowerCase()) seed = (seed * 31 + char.charCodeAt(0)) >>> 0;
  return Array.from({ length: days }, (_, index) => {
    seed = (seed * 1_103_515_245 + 12_345) >>> 0;
    const low = 5 + (seed % 15);
    return { day: index + 1, sky: SKIES[seed % SKIES.length]!, low, high: low + 4 + (seed % 7) };
  });
}
