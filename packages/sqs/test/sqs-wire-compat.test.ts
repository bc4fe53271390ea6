import { randomUUID } from 'node:crypto';
import { ConfigurationError, type Logger, sessionLogId } from '@asyncmcp/core';
import {
  destroyAfterTest,
  initializeRequest,
  isCompactJson,
  nowSeconds,
  PY_SERVER_INFO,
  type PyAttributes,
  pyClientAttributes,
  pyDumps,
  pyInitialize,
  pyInitializeResult,
  pyServerAttributes,
  pyToolCall,
  pyUnsupportedVersionRequest,
  rpcOf,
  SqsQueueReader,
  started,
  useQueueTestBed,
} from '@asyncmcp-internal/test-support';
import {
  type Message,
  SendMessageCommand,
  type SendMessageCommandInput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SqsClientTransport, SqsSessionManager } from '../src/index.js';

/**
 * Wire compatibility with the Python asyncmcp 0.2.x SQS transport (docs/protocol.md §1, §2, §5, §6).
 * The test plays the Python peer by hand: it writes bodies the way Python's `json.dumps` does and the
 * attributes `create_common_client_message_attributes` builds, and reads what we send with the raw SQS
 * API, through the real emulator and the real AWS SDK client.
 */

// ---------------------------------------------------------------------------------------------------
// Python-style encoding

/**
 * An SQS body as SNS delivers it to a queue without raw delivery: the JSON-RPC text in `Message`, the
 * attributes as `{Type, Value}` inside the envelope, laid out the way SNS lays it out (`"Key" : value`).
 */
function snsEnvelope(message: string, attributes: Record<string, string>): string {
  const envelopeAttributes: Record<string, { Type: string; Value: string }> = {};
  for (const [name, value] of Object.entries(attributes)) {
    envelopeAttributes[name] = { Type: name === 'Timestamp' ? 'Number' : 'String', Value: value };
  }
  const fields: [string, string][] = [
    ['Type', JSON.stringify('Notification')],
    ['MessageId', JSON.stringify(randomUUID())],
    ['TopicArn', JSON.stringify('arn:aws:sns:us-east-1:000000000000:t')],
    ['Message', JSON.stringify(message)],
    ['Timestamp', JSON.stringify(new Date().toISOString())],
    ['SignatureVersion', JSON.stringify('1')],
    [
      'Signature',
      JSON.stringify(
        'EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=',
      ),
    ],
    [
      'SigningCertURL',
      JSON.stringify('https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem'),
    ],
    ['UnsubscribeURL', JSON.stringify('https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe')],
    [
      'MessageAttributes',
      `{\n${Object.entries(envelopeAttributes)
        .map(([name, value]) => `    ${JSON.stringify(name)} : ${JSON.stringify(value)}`)
        .join(',\n')}\n  }`,
    ],
  ];
  return `{\n${fields.map(([key, value]) => `  ${JSON.stringify(key)} : ${value}`).join(',\n')}\n}`;
}

// ---------------------------------------------------------------------------------------------------
// Reading a queue as a Python peer does

function attr(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

// ---------------------------------------------------------------------------------------------------
// Fixtures

const { emulator: sqs, cleanups } = useQueueTestBed();

function createServer(): McpServer {
  const server = new McpServer({ name: 'wire-compat-server', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echoes its text', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }),
  );
  return server;
}

/** Records log lines so a test can wait for one (the manager says what it rejected, and why). */
class LogTap implements Logger {
  readonly lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  #waiters: { match: (message: string) => boolean; resolve: () => void }[] = [];

  debug(fields: Record<string, unknown>, message = ''): void {
    this.#record('debug', fields, message);
  }
  info(fields: Record<string, unknown>, message = ''): void {
    this.#record('info', fields, message);
  }
  warn(fields: Record<string, unknown>, message = ''): void {
    this.#record('warn', fields, message);
  }
  error(fields: Record<string, unknown>, message = ''): void {
    this.#record('error', fields, message);
  }

  #record(level: string, fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level, fields, message });
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.match(message)) return true;
      waiter.resolve();
      return false;
    });
  }

  /** Resolves when a line whose message satisfies `match` has been logged (bounded by the test timeout). */
  waitFor(match: (message: string) => boolean): Promise<void> {
    if (this.lines.some((line) => match(line.message))) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }
}

async function startManager(
  options: { requestQueueUrl?: string; logger?: Logger; sqsClient?: SQSClient } = {},
): Promise<{ manager: SqsSessionManager; requestQueueUrl: string }> {
  const requestQueueUrl = options.requestQueueUrl ?? (await sqs.createQueue('compat-requests'));
  const manager = await started(
    new SqsSessionManager({
      sqsClient: options.sqsClient ?? sqs.sqsClient,
      requestQueueUrl,
      createServer,
      waitTimeSeconds: 1,
      visibilityTimeoutSeconds: 10,
      logger: options.logger,
    }),
    cleanups,
  );
  return { manager, requestQueueUrl };
}

async function sendRaw(
  queueUrl: string,
  body: string,
  attributes: PyAttributes = {},
  extra: Partial<SendMessageCommandInput> = {},
): Promise<void> {
  await sqs.sqsClient.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
      ...extra,
    }),
  );
}

/** Answers a client's initialize as a Python server does, naming a fresh session: that session's id. */
async function answerPyInitialize(
  responseQueueUrl: string,
  initializeId: string | number,
  protocolVersion: string,
): Promise<string> {
  const sessionId = randomUUID().replaceAll('-', '');
  await sendRaw(
    responseQueueUrl,
    pyInitializeResult(initializeId, protocolVersion),
    pyServerAttributes(sessionId),
  );
  return sessionId;
}

/** A Python client's handshake: initialize, read the answer, send notifications/initialized. */
async function pyHandshake(
  requestQueueUrl: string,
  responses: SqsQueueReader,
  clientId = 'py-client',
): Promise<string> {
  await sendRaw(
    requestQueueUrl,
    pyInitialize(1, { responseQueueUrl: responses.queueUrl }),
    pyClientAttributes({ method: 'initialize', id: 1, clientId }),
  );
  const answer = await responses.nextRpc((rpc) => rpc.id === 1);
  const sessionId = attr(answer, 'SessionId');
  if (!sessionId) throw new Error('initialize answer without SessionId');
  await sendRaw(
    requestQueueUrl,
    pyDumps({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    pyClientAttributes({ method: 'notifications/initialized', sessionId, clientId }),
  );
  return sessionId;
}

// ---------------------------------------------------------------------------------------------------
// (a) Python client → SqsSessionManager

describe('Python-style client → SqsSessionManager', () => {
  it('answers a json.dumps-spaced initialize with compact JSON and the §1 attributes, then serves tools/call', async () => {
    const { manager, requestQueueUrl } = await startManager();
    const responseQueueUrl = await sqs.createQueue('compat-py-responses');
    const responses = new SqsQueueReader(sqs.sqsClient, responseQueueUrl);

    const initializeBody = pyInitialize(1, { responseQueueUrl });
    expect(initializeBody).toContain('{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {');
    await sendRaw(
      requestQueueUrl,
      initializeBody,
      pyClientAttributes({ method: 'initialize', id: 1, clientId: 'py-client' }),
    );

    const answer = await responses.next();
    const body = answer.Body ?? '';
    expect(isCompactJson(body)).toBe(true);
    expect(body).not.toContain('", "');
    expect(body).not.toContain('": ');
    const rpc = rpcOf(answer);
    expect(rpc.jsonrpc).toBe('2.0');
    expect(rpc.id).toBe(1);
    expect(rpc.error).toBeUndefined();
    expect(rpc.result?.protocolVersion).toBe('2025-06-18');
    expect(rpc.result?.serverInfo).toMatchObject({ name: 'wire-compat-server' });
    expect(rpc.result?.capabilities).toHaveProperty('tools');

    const attributes = answer.MessageAttributes ?? {};
    expect(attributes.SessionId?.DataType).toBe('String');
    expect(attributes.SessionId?.StringValue).toMatch(/^[0-9a-f]{32}$/);
    expect(attributes.MessageType).toMatchObject({ DataType: 'String', StringValue: 'jsonrpc' });
    expect(attributes.Timestamp?.DataType).toBe('Number');
    expect(attributes.Timestamp?.StringValue).toMatch(/^\d+$/);
    // Unix seconds, not milliseconds.
    expect(Math.abs(Number(attributes.Timestamp?.StringValue) - Date.now() / 1000)).toBeLessThan(600);
    const sessionId = attributes.SessionId?.StringValue as string;
    expect(manager.sessions.get(sessionId)?.clientId).toBe('py-client');

    // Python clients never send ProtocolVersion.
    await sendRaw(
      requestQueueUrl,
      pyDumps({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      pyClientAttributes({ method: 'notifications/initialized', sessionId, clientId: 'py-client' }),
    );
    const callAttributes = pyClientAttributes({
      method: 'tools/call',
      id: 2,
      sessionId,
      clientId: 'py-client',
    });
    expect(callAttributes.ProtocolVersion).toBeUndefined();
    await sendRaw(requestQueueUrl, pyToolCall(2, 'hello from python'), callAttributes);

    const toolAnswer = await responses.nextRpc((message) => message.id === 2);
    expect(isCompactJson(toolAnswer.Body ?? '')).toBe(true);
    expect(rpcOf(toolAnswer)).toEqual({
      jsonrpc: '2.0',
      id: 2,
      result: { content: [{ type: 'text', text: 'echo: hello from python' }] },
    });
    expect(attr(toolAnswer, 'SessionId')).toBe(sessionId);
    expect(attr(toolAnswer, 'MessageType')).toBe('jsonrpc');
    expect(toolAnswer.MessageAttributes?.Timestamp?.DataType).toBe('Number');
    // Nothing but the two answers was sent to the client.
    expect(await responses.drain()).toHaveLength(0);
  });

  it('adopts a SessionId the client proposes on initialize', async () => {
    const { manager, requestQueueUrl } = await startManager();
    const responses = new SqsQueueReader(sqs.sqsClient, await sqs.createQueue('compat-proposed'));
    const proposed = `py-proposed-${randomUUID()}`;

    await sendRaw(
      requestQueueUrl,
      pyInitialize(1, { responseQueueUrl: responses.queueUrl }),
      pyClientAttributes({ method: 'initialize', id: 1, clientId: 'py-client', sessionId: proposed }),
    );
    const answer = await responses.nextRpc((rpc) => rpc.id === 1);
    expect(rpcOf(answer).result?.protocolVersion).toBe('2025-06-18');
    expect(attr(answer, 'SessionId')).toBe(proposed);
    expect([...manager.sessions.keys()]).toEqual([proposed]);

    await sendRaw(
      requestQueueUrl,
      pyDumps({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      pyClientAttributes({ method: 'notifications/initialized', sessionId: proposed, clientId: 'py-client' }),
    );
    await sendRaw(
      requestQueueUrl,
      pyToolCall(2, 'proposed'),
      pyClientAttributes({ method: 'tools/call', id: 2, sessionId: proposed, clientId: 'py-client' }),
    );
    const toolAnswer = await responses.nextRpc((rpc) => rpc.id === 2);
    expect(rpcOf(toolAnswer).result).toEqual({ content: [{ type: 'text', text: 'echo: proposed' }] });
    expect(attr(toolAnswer, 'SessionId')).toBe(proposed);
  });

  it('answers an unsupported ProtocolVersion with -32600 and the request’s own id', async () => {
    const { requestQueueUrl } = await startManager();
    const responses = new SqsQueueReader(sqs.sqsClient, await sqs.createQueue('compat-version'));
    const sessionId = await pyHandshake(requestQueueUrl, responses);

    const { body, attributes } = pyUnsupportedVersionRequest(sessionId);
    await sendRaw(requestQueueUrl, body, attributes);
    const error = await responses.nextRpc((rpc) => rpc.id === 7);
    expect(rpcOf(error)).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32600,
        message: `Unsupported protocol version: 1999-01-01. Supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
      },
    });
    expect(attr(error, 'SessionId')).toBe(sessionId);

    // A supported ProtocolVersion (what our clients send) is accepted on the same session.
    await sendRaw(
      requestQueueUrl,
      pyDumps({ jsonrpc: '2.0', id: 8, method: 'tools/list' }),
      pyClientAttributes({
        method: 'tools/list',
        id: 8,
        sessionId,
        clientId: 'py-client',
        protocolVersion: '2025-06-18',
      }),
    );
    const listed = rpcOf(await responses.nextRpc((rpc) => rpc.id === 8));
    expect(listed.error).toBeUndefined();
    expect(listed.result?.tools).toEqual([expect.objectContaining({ name: 'echo' })]);
  });

  it('unwraps an initialize delivered in an SNS envelope, with the attributes inside the envelope', async () => {
    const { manager, requestQueueUrl } = await startManager();
    const responses = new SqsQueueReader(sqs.sqsClient, await sqs.createQueue('compat-sns'));

    // SNS→SQS without raw delivery: no SQS attributes at all, everything inside the envelope.
    const envelope = snsEnvelope(pyInitialize(1, { responseQueueUrl: responses.queueUrl }), {
      ClientId: 'py',
      MessageType: 'jsonrpc',
      Method: 'initialize',
      RequestId: '1',
      Timestamp: nowSeconds(),
    });
    expect(envelope).toContain('"Type" : "Notification"');
    await sendRaw(requestQueueUrl, envelope);

    const answer = await responses.nextRpc((rpc) => rpc.id === 1);
    expect(rpcOf(answer).result?.protocolVersion).toBe('2025-06-18');
    const sessionId = attr(answer, 'SessionId') as string;
    expect(sessionId).toMatch(/^[0-9a-f]{32}$/);
    // ClientId came from the envelope's MessageAttributes.
    expect(manager.sessions.get(sessionId)?.clientId).toBe('py');

    // Later traffic in envelopes is routed by the SessionId inside the envelope.
    await sendRaw(
      requestQueueUrl,
      snsEnvelope(pyDumps({ jsonrpc: '2.0', method: 'notifications/initialized' }), {
        ClientId: 'py',
        MessageType: 'jsonrpc',
        Method: 'notifications/initialized',
        SessionId: sessionId,
      }),
    );
    await sendRaw(
      requestQueueUrl,
      snsEnvelope(pyToolCall(2, 'via sns'), {
        ClientId: 'py',
        MessageType: 'jsonrpc',
        Method: 'tools/call',
        RequestId: '2',
        SessionId: sessionId,
      }),
    );
    const toolAnswer = await responses.nextRpc((rpc) => rpc.id === 2);
    expect(rpcOf(toolAnswer).result).toEqual({ content: [{ type: 'text', text: 'echo: via sns' }] });
    expect(attr(toolAnswer, 'SessionId')).toBe(sessionId);
  });

  it('prefers SQS attributes over the same names inside an SNS envelope', async () => {
    const { manager, requestQueueUrl } = await startManager();
    const responses = new SqsQueueReader(sqs.sqsClient, await sqs.createQueue('compat-sns-merge'));
    await sendRaw(
      requestQueueUrl,
      snsEnvelope(pyInitialize(1, { responseQueueUrl: responses.queueUrl }), {
        ClientId: 'from-envelope',
        MessageType: 'jsonrpc',
        Method: 'initialize',
        RequestId: '1',
      }),
      { ClientId: { DataType: 'String', StringValue: 'from-sqs' } },
    );
    const answer = await responses.nextRpc((rpc) => rpc.id === 1);
    const sessionId = attr(answer, 'SessionId') as string;
    expect(manager.sessions.get(sessionId)?.clientId).toBe('from-sqs');
  });

  it('survives a request for an unknown session and keeps serving valid traffic', async () => {
    const logs = new LogTap();
    const { manager, requestQueueUrl } = await startManager({ logger: logs });
    const responses = new SqsQueueReader(sqs.sqsClient, await sqs.createQueue('compat-unknown'));
    const unknown = randomUUID().replaceAll('-', '');

    const rejected = logs.waitFor((message) => message.includes('unknown session'));
    await sendRaw(
      requestQueueUrl,
      pyToolCall(5, 'lost'),
      pyClientAttributes({ method: 'tools/call', id: 5, sessionId: unknown, clientId: 'py-client' }),
    );
    await rejected;
    const line = logs.lines.find((entry) => entry.message.includes('unknown session'));
    expect(line?.fields).toMatchObject({ sessionId: sessionLogId(unknown), code: -32600 });
    expect(line?.fields.detail).toBe(`Session not found: ${unknown}`);
    // Nobody to answer: no session was opened for it.
    expect(manager.sessions.size).toBe(0);

    const sessionId = await pyHandshake(requestQueueUrl, responses);
    await sendRaw(
      requestQueueUrl,
      pyToolCall(6, 'still here'),
      pyClientAttributes({ method: 'tools/call', id: 6, sessionId, clientId: 'py-client' }),
    );
    const toolAnswer = await responses.nextRpc((rpc) => rpc.id === 6);
    expect(rpcOf(toolAnswer).result).toEqual({ content: [{ type: 'text', text: 'echo: still here' }] });
    // The lost request was never answered to this (or any) client.
    expect(responses.pending.map((message) => rpcOf(message).id)).not.toContain(5);
    // Counted, not silently dropped (§5).
    expect(manager.metrics.unroutable).toBe(1);
    expect(manager.sessions.has(sessionId)).toBe(true);
  });

  it('echoes string request ids exactly', async () => {
    const { requestQueueUrl } = await startManager();
    const responses = new SqsQueueReader(sqs.sqsClient, await sqs.createQueue('compat-string-id'));

    await sendRaw(
      requestQueueUrl,
      pyInitialize('abc', { responseQueueUrl: responses.queueUrl }),
      pyClientAttributes({ method: 'initialize', id: 'abc', clientId: 'py-client' }),
    );
    const answer = await responses.nextRpc((rpc) => rpc.id === 'abc');
    expect(rpcOf(answer).id).toBe('abc');
    expect(answer.Body).toContain('"id":"abc"');
    const sessionId = attr(answer, 'SessionId') as string;

    await sendRaw(
      requestQueueUrl,
      pyDumps({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      pyClientAttributes({ method: 'notifications/initialized', sessionId, clientId: 'py-client' }),
    );
    // A numeric-looking string stays a string.
    await sendRaw(
      requestQueueUrl,
      pyToolCall('7', 'string id'),
      pyClientAttributes({ method: 'tools/call', id: '7', sessionId, clientId: 'py-client' }),
    );
    const toolAnswer = await responses.nextRpc((rpc) => rpc.id === '7');
    expect(rpcOf(toolAnswer).id).toBe('7');
    expect(toolAnswer.Body).toContain('"id":"7"');
    expect(rpcOf(toolAnswer).result).toEqual({ content: [{ type: 'text', text: 'echo: string id' }] });
  });

  it('forwards an initialize that names a live session into that session, as Python does', async () => {
    const { manager, requestQueueUrl } = await startManager();
    const responses = new SqsQueueReader(sqs.sqsClient, await sqs.createQueue('compat-reinit'));
    const sessionId = await pyHandshake(requestQueueUrl, responses);

    await sendRaw(
      requestQueueUrl,
      pyInitialize(3, { responseQueueUrl: responses.queueUrl }),
      pyClientAttributes({ method: 'initialize', id: 3, clientId: 'py-client', sessionId }),
    );
    const again = await responses.nextRpc((rpc) => rpc.id === 3);
    expect(attr(again, 'SessionId')).toBe(sessionId);
    expect([...manager.sessions.keys()]).toEqual([sessionId]);
  });

  it('reads ensure_ascii escapes (\\uXXXX) and answers in UTF-8', async () => {
    const { requestQueueUrl } = await startManager();
    const responses = new SqsQueueReader(sqs.sqsClient, await sqs.createQueue('compat-ascii'));
    const sessionId = await pyHandshake(requestQueueUrl, responses);
    // Characters outside the BMP are left out: the emulator (unlike SQS) refuses them in any body.
    const body = pyToolCall(4, 'héllo ☃ ✓');
    // What Python's json.dumps writes by default (ensure_ascii=True).
    expect(body).toContain('"text": "h\\u00e9llo \\u2603 \\u2713"');

    await sendRaw(
      requestQueueUrl,
      body,
      pyClientAttributes({ method: 'tools/call', id: 4, sessionId, clientId: 'py-client' }),
    );
    const answer = await responses.nextRpc((rpc) => rpc.id === 4);
    expect(rpcOf(answer).result).toEqual({ content: [{ type: 'text', text: 'echo: héllo ☃ ✓' }] });
    expect(answer.Body).toContain('héllo ☃ ✓');
  });
});

// ---------------------------------------------------------------------------------------------------
// (b) SqsClientTransport + SDK Client → Python server

function newClientTransport(
  requestQueueUrl: string,
  responseQueueUrl: string,
  extra: { sqsClient?: SQSClient; messageAttributes?: Record<string, string> } = {},
): SqsClientTransport {
  return new SqsClientTransport({
    sqsClient: extra.sqsClient ?? sqs.sqsClient,
    requestQueueUrl,
    responseQueueUrl,
    clientId: `ts-client-${randomUUID().slice(0, 8)}`,
    waitTimeSeconds: 1,
    messageAttributes: extra.messageAttributes,
  });
}

/**
 * Our SDK client connecting to a Python server that the test plays: the connect stays pending until the
 * test has read `initialize` off the request queue and answered it.
 */
async function connectToPythonServer(
  prefix: string,
  options: { fifo?: boolean; messageAttributes?: Record<string, string> } = {},
) {
  const fifo = options.fifo ? { FifoQueue: 'true' } : undefined;
  const requestQueueUrl = await sqs.createQueue(`${prefix}-requests`, fifo);
  const responseQueueUrl = await sqs.createQueue(`${prefix}-responses`, fifo);
  const requests = new SqsQueueReader(sqs.sqsClient, requestQueueUrl);
  const transport = newClientTransport(requestQueueUrl, responseQueueUrl, {
    messageAttributes: options.messageAttributes,
  });
  const client = new Client({ name: 'ts-client', version: '1.0.0' });
  cleanups.push(() => client.close());
  const connected = client.connect(transport);
  return { responseQueueUrl, requests, transport, client, connected };
}

describe('SqsClientTransport + SDK Client → Python-style server', () => {
  it('sends the handshake a Python server expects, adopts its SessionId and reads an SNS-enveloped answer', async () => {
    const { responseQueueUrl, requests, transport, client, connected } = await connectToPythonServer(
      'compat-py-server',
      { messageAttributes: { Tenant: 'acme', TraceId: 'trace-1' } },
    );

    // initialize, as the Python server reads it.
    const initialize = await requests.next();
    expect(isCompactJson(initialize.Body ?? '')).toBe(true);
    const initializeRpc = rpcOf(initialize);
    expect(initializeRpc.method).toBe('initialize');
    expect(initializeRpc.params?._meta?.responseQueueUrl).toBe(responseQueueUrl);
    const initializeId = initializeRpc.id as string | number;
    expect(initializeId).toBeDefined();
    expect(attr(initialize, 'ClientId')).toBe(transport.clientId);
    expect(attr(initialize, 'MessageType')).toBe('jsonrpc');
    expect(attr(initialize, 'Method')).toBe('initialize');
    expect(attr(initialize, 'RequestId')).toBe(String(initializeId));
    expect(initialize.MessageAttributes?.Timestamp?.DataType).toBe('Number');
    // Unix seconds, as Python's str(int(time.time())).
    expect(attr(initialize, 'Timestamp')).toMatch(/^\d+$/);
    expect(Math.abs(Number(attr(initialize, 'Timestamp')) - Date.now() / 1000)).toBeLessThan(600);
    expect(initialize.MessageAttributes?.RequestId?.DataType).toBe('String');
    expect(attr(initialize, 'SessionId')).toBeUndefined();
    expect(attr(initialize, 'ProtocolVersion')).toBeUndefined();
    // Custom attributes travel beside the protocol's own.
    expect(attr(initialize, 'Tenant')).toBe('acme');
    expect(attr(initialize, 'TraceId')).toBe('trace-1');

    // The Python server answers with json.dumps spacing and its own session id.
    const sessionId = randomUUID().replaceAll('-', '');
    const negotiated = '2025-06-18';
    await sendRaw(
      responseQueueUrl,
      pyInitializeResult(initializeId, negotiated),
      pyServerAttributes(sessionId),
    );
    await connected;
    expect(transport.sessionId).toBe(sessionId);
    expect(client.getServerVersion()).toEqual(PY_SERVER_INFO);

    const initialized = await requests.next();
    expect(rpcOf(initialized)).toEqual({ jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(attr(initialized, 'SessionId')).toBe(sessionId);
    expect(attr(initialized, 'ProtocolVersion')).toBe(negotiated);
    expect(attr(initialized, 'Method')).toBe('notifications/initialized');
    expect(attr(initialized, 'RequestId')).toBeUndefined();
    expect(attr(initialized, 'ClientId')).toBe(transport.clientId);
    expect(attr(initialized, 'MessageType')).toBe('jsonrpc');
    expect(attr(initialized, 'Tenant')).toBe('acme');

    const listing = client.listTools();
    const list = await requests.next();
    const listRpc = rpcOf(list);
    expect(listRpc.method).toBe('tools/list');
    expect(attr(list, 'SessionId')).toBe(sessionId);
    expect(attr(list, 'ProtocolVersion')).toBe(negotiated);
    expect(attr(list, 'Method')).toBe('tools/list');
    expect(attr(list, 'RequestId')).toBe(String(listRpc.id));
    expect(attr(list, 'TraceId')).toBe('trace-1');

    // The answer comes through SNS (no raw delivery): the JSON-RPC text inside the envelope.
    await sendRaw(
      responseQueueUrl,
      snsEnvelope(
        pyDumps({
          jsonrpc: '2.0',
          id: listRpc.id as string | number,
          result: {
            tools: [
              {
                name: 'py_tool',
                description: 'A tool written in Python',
                inputSchema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
              },
            ],
          },
        }),
        { MessageType: 'jsonrpc', SessionId: sessionId, Timestamp: nowSeconds() },
      ),
    );
    const tools = await listing;
    expect(tools.tools.map((tool) => tool.name)).toEqual(['py_tool']);
    expect(tools.tools[0]?.description).toBe('A tool written in Python');
  });

  it('answers a Python server’s own request (ping) with its id and the session attributes', async () => {
    const { responseQueueUrl, requests, transport, connected } = await connectToPythonServer('compat-ping');
    const initializeId = rpcOf(await requests.next()).id as string | number;
    const sessionId = await answerPyInitialize(responseQueueUrl, initializeId, '2025-06-18');
    await connected;
    await requests.nextRpc((rpc) => rpc.method === 'notifications/initialized');

    await sendRaw(
      responseQueueUrl,
      pyDumps({ jsonrpc: '2.0', id: 'srv-1', method: 'ping' }),
      pyServerAttributes(sessionId),
    );
    const pong = await requests.nextRpc((rpc) => rpc.id === 'srv-1');
    expect(rpcOf(pong)).toEqual({ jsonrpc: '2.0', id: 'srv-1', result: {} });
    expect(attr(pong, 'SessionId')).toBe(sessionId);
    expect(attr(pong, 'ProtocolVersion')).toBe('2025-06-18');
    expect(attr(pong, 'MessageType')).toBe('jsonrpc');
    expect(attr(pong, 'ClientId')).toBe(transport.clientId);
    // A response carries neither RequestId nor Method.
    expect(attr(pong, 'RequestId')).toBeUndefined();
    expect(attr(pong, 'Method')).toBeUndefined();
  });

  it('adds responseQueueUrl to initialize’s _meta and keeps the caller’s other keys', async () => {
    const requestQueueUrl = await sqs.createQueue('compat-meta-requests');
    const responseQueueUrl = await sqs.createQueue('compat-meta-responses');
    const requests = new SqsQueueReader(sqs.sqsClient, requestQueueUrl);
    const transport = newClientTransport(requestQueueUrl, responseQueueUrl);
    await transport.start();
    cleanups.push(() => transport.close());

    await transport.send(initializeRequest('init-1', { meta: { other: 'kept' } }));
    const initialize = rpcOf(await requests.next());
    // Ids are opaque to servers: ours go out unguessable, never the caller's own.
    expect(initialize.id).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{22}$/));
    expect(initialize.params?._meta).toEqual({ other: 'kept', responseQueueUrl });
    expect(initialize.params?.clientInfo).toEqual({ name: 'x', version: '1' });

    await transport.send({ jsonrpc: '2.0', id: 2, method: 'initialize' });
    const bare = await requests.next();
    expect(rpcOf(bare).params).toEqual({ _meta: { responseQueueUrl } });
    expect(attr(bare, 'RequestId')).toBe(rpcOf(bare).id);
  });

  it('adopts the SessionId only from the initialize result, not from an earlier server message', async () => {
    const { responseQueueUrl, requests, transport, connected } = await connectToPythonServer('compat-adopt');

    const initializeId = rpcOf(await requests.next()).id as string | number;
    // A server notification (e.g. a log line) before the answer must not fix the session id.
    await sendRaw(
      responseQueueUrl,
      pyDumps({
        jsonrpc: '2.0',
        method: 'notifications/message',
        params: { level: 'info', data: 'starting' },
      }),
      pyServerAttributes('not-the-session'),
    );
    const sessionId = await answerPyInitialize(responseQueueUrl, initializeId, '2025-03-26');
    await connected;
    expect(transport.sessionId).toBe(sessionId);
    const initialized = await requests.next();
    expect(attr(initialized, 'SessionId')).toBe(sessionId);
    expect(attr(initialized, 'ProtocolVersion')).toBe('2025-03-26');
  });

  it('adopts the SessionId from an SNS-enveloped initialize result whose attributes are only in the envelope', async () => {
    const { responseQueueUrl, requests, transport, connected } =
      await connectToPythonServer('compat-sns-init');

    const initializeId = rpcOf(await requests.next()).id as string | number;
    const sessionId = randomUUID().replaceAll('-', '');
    await sendRaw(
      responseQueueUrl,
      snsEnvelope(pyInitializeResult(initializeId, '2025-06-18'), {
        MessageType: 'jsonrpc',
        SessionId: sessionId,
        Timestamp: nowSeconds(),
      }),
    );
    await connected;
    expect(transport.sessionId).toBe(sessionId);
    const initialized = await requests.next();
    expect(attr(initialized, 'SessionId')).toBe(sessionId);
    expect(attr(initialized, 'ProtocolVersion')).toBe('2025-06-18');
  });

  it('rejects custom attributes that reuse a protocol name or exceed the attribute budget', () => {
    const base = {
      sqsClient: sqs.sqsClient,
      requestQueueUrl: 'http://127.0.0.1:1/000000000000/requests',
      responseQueueUrl: 'http://127.0.0.1:1/000000000000/responses',
    };
    expect(() => new SqsClientTransport({ ...base, messageAttributes: { SessionId: 'mine' } })).toThrow(
      ConfigurationError,
    );
    expect(() => new SqsClientTransport({ ...base, messageAttributes: { SessionId: 'mine' } })).toThrow(
      /SessionId/,
    );
    const four = { A: '1', B: '2', C: '3', D: '4' };
    expect(() => new SqsClientTransport({ ...base, messageAttributes: four })).toThrow(ConfigurationError);
    // Three fit beside the seven protocol attributes.
    expect(
      () => new SqsClientTransport({ ...base, messageAttributes: { A: '1', B: '2', C: '3' } }),
    ).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------------
// (c) FIFO queues

/** Records every SendMessage input an SQS client makes. */
function captureSends(client: SQSClient): SendMessageCommandInput[] {
  const sent: SendMessageCommandInput[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendMessageCommand') {
        sent.push({ ...(args.input as SendMessageCommandInput) });
      }
      return next(args);
    },
    { step: 'initialize', name: 'captureSendMessage' },
  );
  return sent;
}

describe('FIFO queues', () => {
  it('runs a session end to end with MessageGroupId = session id', async () => {
    const requestQueueUrl = await sqs.createQueue('compat-fifo-requests', { FifoQueue: 'true' });
    const responseQueueUrl = await sqs.createQueue('compat-fifo-responses', { FifoQueue: 'true' });
    expect(requestQueueUrl.endsWith('.fifo')).toBe(true);
    const serverSqs = sqs.newClient();
    const clientSqs = sqs.newClient();
    destroyAfterTest(cleanups, serverSqs, clientSqs);
    const serverSends = captureSends(serverSqs);
    const clientSends = captureSends(clientSqs);
    await startManager({ requestQueueUrl, sqsClient: serverSqs });

    const transport = newClientTransport(requestQueueUrl, responseQueueUrl, { sqsClient: clientSqs });
    const client = new Client({ name: 'ts-client', version: '1.0.0' });
    cleanups.push(() => client.close());
    await client.connect(transport);
    const sessionId = transport.sessionId as string;
    expect(sessionId).toMatch(/^[0-9a-f]{32}$/);

    const result = await client.callTool({ name: 'echo', arguments: { text: 'fifo' } });
    expect(result.content).toEqual([{ type: 'text', text: 'echo: fifo' }]);

    // Client → server: the client id before the session exists, the session id after.
    const toServer = clientSends.filter((input) => input.QueueUrl === requestQueueUrl);
    expect(toServer.map((input) => attr({ MessageAttributes: input.MessageAttributes }, 'Method'))).toEqual([
      'initialize',
      'notifications/initialized',
      'tools/call',
    ]);
    expect(toServer.map((input) => input.MessageGroupId)).toEqual([transport.clientId, sessionId, sessionId]);
    // Server → client: always the session id.
    const toClient = serverSends.filter((input) => input.QueueUrl === responseQueueUrl);
    expect(toClient.length).toBeGreaterThanOrEqual(2);
    for (const input of toClient) expect(input.MessageGroupId).toBe(sessionId);
    // A unique deduplication id on every message.
    const dedupeIds = [...toServer, ...toClient].map((input) => input.MessageDeduplicationId);
    for (const id of dedupeIds) expect(id).toEqual(expect.any(String));
    expect(new Set(dedupeIds).size).toBe(dedupeIds.length);
  });

  it('a Python-style client on FIFO queues gets answers grouped by its session id', async () => {
    const requestQueueUrl = await sqs.createQueue('compat-fifo-py-requests', { FifoQueue: 'true' });
    const responseQueueUrl = await sqs.createQueue('compat-fifo-py-responses', { FifoQueue: 'true' });
    await startManager({ requestQueueUrl });
    const responses = new SqsQueueReader(sqs.sqsClient, responseQueueUrl);
    const fifo = (group: string): Partial<SendMessageCommandInput> => ({
      MessageGroupId: group,
      MessageDeduplicationId: randomUUID(),
    });

    await sendRaw(
      requestQueueUrl,
      pyInitialize(1, { responseQueueUrl }),
      pyClientAttributes({ method: 'initialize', id: 1, clientId: 'py-client' }),
      fifo('py-client'),
    );
    const answer = await responses.nextRpc((rpc) => rpc.id === 1);
    const sessionId = attr(answer, 'SessionId') as string;
    expect(sessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(answer.Attributes?.MessageGroupId).toBe(sessionId);
    expect(answer.Attributes?.MessageDeduplicationId).toEqual(expect.any(String));

    await sendRaw(
      requestQueueUrl,
      pyDumps({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      pyClientAttributes({ method: 'notifications/initialized', sessionId, clientId: 'py-client' }),
      fifo(sessionId),
    );
    await sendRaw(
      requestQueueUrl,
      pyToolCall(2, 'fifo python'),
      pyClientAttributes({ method: 'tools/call', id: 2, sessionId, clientId: 'py-client' }),
      fifo(sessionId),
    );
    const toolAnswer = await responses.nextRpc((rpc) => rpc.id === 2);
    expect(rpcOf(toolAnswer).result).toEqual({ content: [{ type: 'text', text: 'echo: fifo python' }] });
    expect(toolAnswer.Attributes?.MessageGroupId).toBe(sessionId);
  });

  it('our client on FIFO queues groups by client id, then by the session id a Python server gave', async () => {
    const { responseQueueUrl, requests, transport, connected } = await connectToPythonServer(
      'compat-fifo-ts',
      { fifo: true },
    );

    const initialize = await requests.next();
    expect(initialize.Attributes?.MessageGroupId).toBe(transport.clientId);
    const sessionId = randomUUID().replaceAll('-', '');
    await sendRaw(
      responseQueueUrl,
      pyInitializeResult(rpcOf(initialize).id as string | number, '2025-06-18'),
      pyServerAttributes(sessionId),
      { MessageGroupId: sessionId, MessageDeduplicationId: randomUUID() },
    );
    await connected;
    const initialized = await requests.next();
    expect(rpcOf(initialized).method).toBe('notifications/initialized');
    expect(initialized.Attributes?.MessageGroupId).toBe(sessionId);
    expect(attr(initialized, 'SessionId')).toBe(sessionId);
  });
});
