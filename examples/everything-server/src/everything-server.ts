import { setTimeout as delay } from 'node:timers/promises';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolResult,
  type LoggingLevel,
  LoggingLevelSchema,
  type ServerNotification,
  type ServerRequest,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** A 1×1 red pixel (PNG). */
export const RED_PIXEL_PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
/** One sample of silence (WAV, 8 kHz mono 16-bit PCM). */
export const SILENT_WAV_BASE64 = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA==';

export const WATCHED_RESOURCE_URI = 'test://watched-resource';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const LOG_LEVELS = LoggingLevelSchema.options;
const COMPLETIONS = ['paris', 'park', 'party', 'test', 'testing'];

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });
const pause = (extra: Extra) => delay(50, undefined, { signal: extra.signal });

/**
 * Everything the MCP conformance suite (`@modelcontextprotocol/conformance` 0.1.16) checks of a server:
 * its tools, resources, prompts, completion, logging and subscriptions. Create one per session — the
 * log level, the subscriptions and the watched resource belong to the client that set them.
 */
export function createEverythingServer(): McpServer {
  const server = new McpServer(
    { name: 'asyncmcp-everything-server', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
    },
  );

  // The SDK's own `logging/setLevel` handler only filters `sendLoggingMessage`, which goes out on the
  // standalone stream; tool logs go on the call's own stream (so they arrive before its result), so
  // the level is kept here.
  let minLogLevel: LoggingLevel = 'debug';
  server.server.setRequestHandler(SetLevelRequestSchema, ({ params }) => {
    minLogLevel = params.level;
    return {};
  });
  const log = async (extra: Extra, level: LoggingLevel, data: string) => {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(minLogLevel)) return;
    await extra.sendNotification({
      method: 'notifications/message',
      params: { level, logger: 'everything-server', data },
    });
  };

  // ---- tools ----

  server.registerTool('test_simple_text', { description: 'Returns a simple text response' }, () =>
    text('This is a simple text response for testing.'),
  );

  server.registerTool('test_image_content', { description: 'Returns a PNG image' }, () => ({
    content: [{ type: 'image', data: RED_PIXEL_PNG_BASE64, mimeType: 'image/png' }],
  }));

  server.registerTool('test_audio_content', { description: 'Returns a WAV audio clip' }, () => ({
    content: [{ type: 'audio', data: SILENT_WAV_BASE64, mimeType: 'audio/wav' }],
  }));

  server.registerTool('test_embedded_resource', { description: 'Returns an embedded resource' }, () => ({
    content: [
      {
        type: 'resource',
        resource: {
          uri: 'test://embedded-resource',
          mimeType: 'text/plain',
          text: 'This is an embedded resource content.',
        },
      },
    ],
  }));

  server.registerTool(
    'test_multiple_content_types',
    { description: 'Returns text, image and resource content together' },
    () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: RED_PIXEL_PNG_BASE64, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  );

  server.registerTool(
    'test_tool_with_logging',
    { description: 'Sends three info log notifications while it runs' },
    async (extra) => {
      await log(extra, 'info', 'Tool execution started');
      await pause(extra);
      await log(extra, 'info', 'Tool processing data');
      await pause(extra);
      await log(extra, 'info', 'Tool execution completed');
      return text('Tool with logging executed successfully');
    },
  );

  server.registerTool(
    'test_tool_with_progress',
    { description: 'Reports progress 0, 50 and 100 of 100 when given a progress token' },
    async (extra) => {
      const progressToken = extra._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progress > 0) await pause(extra);
        if (progressToken === undefined) continue;
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken, progress, total: 100, message: `Completed ${progress} of 100` },
        });
      }
      return text(`Progress reported for token ${String(progressToken)}`);
    },
  );

  server.registerTool('test_error_handling', { description: 'Always fails' }, () => {
    // McpServer turns a thrown error into a result with `isError: true` and the message as text.
    throw new Error('This tool intentionally returns an error for testing');
  });

  server.registerTool(
    'test_sampling',
    {
      description: 'Asks the client to sample an LLM with the prompt',
      inputSchema: { prompt: z.string().describe('The prompt to send to the LLM') },
    },
    async ({ prompt }, extra) => {
      // Sent on the call's own stream (relatedRequestId): it needs no standalone SSE stream.
      const result = await server.server.createMessage(
        { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 },
        { relatedRequestId: extra.requestId },
      );
      const reply = result.content.type === 'text' ? result.content.text : `[${result.content.type}]`;
      return text(`LLM response: ${reply}`);
    },
  );

  server.registerTool(
    'test_elicitation',
    {
      description: 'Asks the client for a username and email',
      inputSchema: { message: z.string().describe('The message to show the user') },
    },
    async ({ message }, extra) => {
      const result = await server.server.elicitInput(
        {
          message,
          requestedSchema: {
            type: 'object',
            properties: {
              username: { type: 'string', description: "User's response" },
              email: { type: 'string', description: "User's email address" },
            },
            required: ['username', 'email'],
          },
        },
        { relatedRequestId: extra.requestId },
      );
      return text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
    },
  );

  server.registerTool(
    'test_elicitation_sep1034_defaults',
    { description: 'Elicits a form whose fields all have default values (SEP-1034)' },
    async (extra) => {
      const result = await server.server.elicitInput(
        {
          message: 'Please review and update the form fields with defaults',
          requestedSchema: {
            type: 'object',
            properties: {
              name: { type: 'string', description: 'User name', default: 'John Doe' },
              age: { type: 'integer', description: 'User age', default: 30 },
              score: { type: 'number', description: 'User score', default: 95.5 },
              status: {
                type: 'string',
                description: 'User status',
                enum: ['active', 'inactive', 'pending'],
                default: 'active',
              },
              verified: { type: 'boolean', description: 'Verification status', default: true },
            },
          },
        },
        { relatedRequestId: extra.requestId },
      );
      return text(
        `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`,
      );
    },
  );

  server.registerTool(
    'test_elicitation_sep1330_enums',
    { description: 'Elicits a form with every enum variant (SEP-1330)' },
    async (extra) => {
      const result = await server.server.elicitInput(
        {
          message: 'Please pick from each kind of enum',
          requestedSchema: {
            type: 'object',
            properties: {
              untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
              titledSingle: {
                type: 'string',
                oneOf: [
                  { const: 'value1', title: 'First Option' },
                  { const: 'value2', title: 'Second Option' },
                  { const: 'value3', title: 'Third Option' },
                ],
              },
              legacyEnum: {
                type: 'string',
                enum: ['opt1', 'opt2', 'opt3'],
                enumNames: ['Option One', 'Option Two', 'Option Three'],
              },
              untitledMulti: {
                type: 'array',
                items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
              },
              titledMulti: {
                type: 'array',
                items: {
                  anyOf: [
                    { const: 'value1', title: 'First Choice' },
                    { const: 'value2', title: 'Second Choice' },
                    { const: 'value3', title: 'Third Choice' },
                  ],
                },
              },
            },
          },
        },
        { relatedRequestId: extra.requestId },
      );
      return text(
        `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`,
      );
    },
  );

  server.registerTool(
    'test_reconnection',
    {
      description: 'Closes its SSE stream mid-call; the result reaches the client when it resumes (SEP-1699)',
    },
    async (extra) => {
      // Only offered over Streamable HTTP with an event store, to clients that can resume (2025-11-25+).
      extra.closeSSEStream?.();
      await pause(extra);
      return text('Reconnection test completed successfully.');
    },
  );

  // ---- resources ----

  server.registerResource(
    'static-text',
    'test://static-text',
    { description: 'A static text resource', mimeType: 'text/plain' },
    (uri) => ({
      contents: [
        { uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
      ],
    }),
  );

  server.registerResource(
    'static-binary',
    'test://static-binary',
    { description: 'A static binary resource (PNG)', mimeType: 'image/png' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: RED_PIXEL_PNG_BASE64 }] }),
  );

  server.registerResource(
    'template-data',
    new ResourceTemplate('test://template/{id}/data', {
      list: undefined,
      complete: { id: (value) => ['123', '456', '789'].filter((id) => id.startsWith(value)) },
    }),
    { description: 'JSON data for any id', mimeType: 'application/json' },
    (uri, { id }) => {
      const value = String(id);
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: 'application/json',
            text: JSON.stringify({ id: value, templateTest: true, data: `Data for ID: ${value}` }),
          },
        ],
      };
    },
  );

  let watchedContent = 'Watched resource content';
  const subscriptions = new Set<string>();
  server.registerResource(
    'watched-resource',
    WATCHED_RESOURCE_URI,
    {
      description: 'A resource to subscribe to; `update_watched_resource` changes it',
      mimeType: 'text/plain',
    },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: watchedContent }] }),
  );
  server.server.setRequestHandler(SubscribeRequestSchema, ({ params }) => {
    subscriptions.add(params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, ({ params }) => {
    subscriptions.delete(params.uri);
    return {};
  });
  server.registerTool(
    'update_watched_resource',
    {
      description: `Changes ${WATCHED_RESOURCE_URI}, notifying the client if it subscribed`,
      inputSchema: { content: z.string().describe('The new content') },
    },
    async ({ content }, extra) => {
      watchedContent = content;
      if (subscriptions.has(WATCHED_RESOURCE_URI)) {
        // On the call's own stream, so the client has it before the result.
        await extra.sendNotification({
          method: 'notifications/resources/updated',
          params: { uri: WATCHED_RESOURCE_URI },
        });
      }
      return text(`Updated ${WATCHED_RESOURCE_URI}`);
    },
  );

  // ---- prompts ----

  server.registerPrompt('test_simple_prompt', { description: 'A prompt without arguments' }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));

  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      description: 'A prompt with two arguments; arg1 offers completions',
      argsSchema: {
        arg1: completable(z.string().describe('First test argument'), (value) =>
          COMPLETIONS.filter((candidate) => candidate.startsWith(value)),
        ),
        arg2: z.string().describe('Second test argument'),
      },
    },
    ({ arg1, arg2 }) => ({
      messages: [
        {
          role: 'user',
          content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` },
        },
      ],
    }),
  );

  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      description: 'A prompt embedding a resource',
      argsSchema: { resourceUri: z.string().describe('URI of the resource to embed') },
    },
    ({ resourceUri }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: {
              uri: resourceUri,
              mimeType: 'text/plain',
              text: 'Embedded resource content for testing.',
            },
          },
        },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );

  server.registerPrompt('test_prompt_with_image', { description: 'A prompt with an image' }, () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: RED_PIXEL_PNG_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));

  return server;
}
