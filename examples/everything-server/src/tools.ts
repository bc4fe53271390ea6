import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { registerClientRequestTools } from './client-request-tools.js';
import { pause, RED_PIXEL_PNG_BASE64, SILENT_WAV_BASE64, text } from './content.js';
import type { SessionLog } from './logging.js';

/**
 * The tools the conformance suite calls: content of each kind, logs, progress, errors, sampling and
 * elicitation, reconnection.
 */
export function registerTools(server: McpServer, log: SessionLog): void {
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

  // Here rather than after the rest, so `tools/list` keeps the order the suite's own server lists.
  registerClientRequestTools(server);

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
}
