import { ConfigurationError } from '@asyncmcp/core';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { SqsSessionManager } from './sqs-session-manager.js';

// Nothing is sent while constructing: a stand-in client is enough.
const sqsClient = { send: () => Promise.reject(new Error('not used')) } as unknown as SQSClient;
const base = {
  sqsClient,
  requestQueueUrl: 'http://localhost:1/000000000000/requests',
  createServer: () => new McpServer({ name: 'unit', version: '1.0.0' }),
};

describe('SqsSessionManager with stateless', () => {
  it('refuses an inbox: a stateless worker holds no session to send to it', () => {
    expect(() => new SqsSessionManager({ ...base, stateless: true, inbox: 'create' })).toThrow(
      ConfigurationError,
    );
  });

  it('holds no session and counts with the stateless dispatcher', () => {
    const manager = new SqsSessionManager({ ...base, stateless: true });
    expect(manager.sessions.size).toBe(0);
    expect(manager.inboxQueueUrl).toBeUndefined();
    // The server pool's counters show which dispatcher is in use.
    expect(manager.metrics).toHaveProperty('serversStarted', 0);
    expect(new SqsSessionManager(base).metrics).not.toHaveProperty('serversStarted');
  });
});
