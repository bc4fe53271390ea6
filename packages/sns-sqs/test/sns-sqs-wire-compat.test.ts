import { randomUUID } from 'node:crypto';
import type { BackendMessageExtra, JSONRPCMessage } from '@asyncmcp/core';
import {
  PY_SERVER_INFO,
  pyInitialize,
  pyInitializeResult,
  pyToolCall,
} from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { SnsSqsClientTransport, snsSqsBackend } from '../src/index.js';
import {
  type Delivered,
  isCompactJson,
  publish,
  pyClientAttributes,
  pyDumps,
  pyServerAttributes,
  pyUnsupportedVersionRequest,
  QueueReader,
  startManager,
  textOf,
  useQueueTestBed,
} from './support.js';

/**
 * Wire compatibility with the Python asyncmcp 0.2.x SNS+SQS transport (docs/protocol.md §2, §5). The
 * test plays the Python peer: it publishes `Message` = `json.dumps` text with `MessageAttributes` as
 * `{DataType, StringValue}`, and reads what we publish from queues subscribed to our topics — with SNS
 * envelopes (attributes inside, as `{Type, Value}`) and with raw delivery (attributes on the SQS message).
 */

const { emulator, cleanups } = useQueueTestBed();

/** A topic with a queue subscribed to it in the given form, read as a Python peer reads it. */
async function subscribedReader(prefix: string, raw: boolean) {
  const topicArn = await emulator.createTopic(prefix);
  const reader = new QueueReader(emulator.sqsClient, await emulator.createQueue(prefix));
  await emulator.subscribe(topicArn, reader.queueUrl, { raw });
  return { topicArn, reader };
}

/** Where the attributes of a delivered message are, by delivery form, and that they are nowhere else. */
function expectAttributesWhereTheFormPutsThem(message: Delivered, raw: boolean): void {
  if (raw) {
    expect(message.envelope).toBeUndefined();
    expect(message.raw.MessageAttributes?.MessageType).toEqual({
      DataType: 'String',
      StringValue: 'jsonrpc',
    });
  } else {
    expect(message.envelope?.Type).toBe('Notification');
    expect(message.raw.MessageAttributes).toBeUndefined();
    expect(message.envelope?.MessageAttributes).toHaveProperty('MessageType', {
      Type: 'String',
      Value: 'jsonrpc',
    });
  }
}

describe.each([
  { form: 'SNS envelope', raw: false },
  { form: 'raw delivery', raw: true },
])('Python-style client → SnsSqsSessionManager ($form)', ({ raw }) => {
  async function startServer() {
    const requestTopicArn = await emulator.createTopic('compat-requests');
    const requestQueueUrl = await emulator.createQueue('compat-requests');
    await emulator.subscribe(requestTopicArn, requestQueueUrl, { raw });
    const manager = await startManager(emulator, cleanups, {
      requestQueueUrl,
    });
    const client = await subscribedReader('compat-py-client', raw);
    return { manager, requestTopicArn, ...client };
  }

  async function pyHandshake(
    requestTopicArn: string,
    topicArn: string,
    reader: QueueReader,
    id: string | number = 1,
  ) {
    await publish(
      emulator.snsClient,
      requestTopicArn,
      pyInitialize(id, { clientTopicArn: topicArn }),
      pyClientAttributes({ method: 'initialize', id, clientId: 'py-client' }),
    );
    const answer = await reader.nextRpc((rpc) => rpc.id === id);
    const sessionId = answer.attributes.SessionId as string;
    await publish(
      emulator.snsClient,
      requestTopicArn,
      pyDumps({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      pyClientAttributes({ method: 'notifications/initialized', sessionId, clientId: 'py-client' }),
    );
    return { answer, sessionId };
  }

  it('answers a json.dumps initialize on the topic named in _meta.clientTopicArn, then serves tools/call', async () => {
    const { manager, requestTopicArn, topicArn, reader } = await startServer();
    const { answer, sessionId } = await pyHandshake(requestTopicArn, topicArn, reader);

    expect(isCompactJson(answer.text)).toBe(true);
    expect(answer.text).not.toContain('", "');
    expect(answer.rpc).toMatchObject({ jsonrpc: '2.0', id: 1, result: { protocolVersion: '2025-06-18' } });
    expect(answer.rpc.result?.serverInfo).toMatchObject({ name: 'sns-sqs-test' });
    expectAttributesWhereTheFormPutsThem(answer, raw);
    expect(sessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(answer.types).toMatchObject({ SessionId: 'String', MessageType: 'String', Timestamp: 'Number' });
    expect(answer.attributes.Timestamp).toMatch(/^\d+$/);
    expect(Math.abs(Number(answer.attributes.Timestamp) - Date.now() / 1000)).toBeLessThan(600);
    expect(manager.sessions.get(sessionId)?.clientId).toBe('py-client');

    // Python clients never send ProtocolVersion.
    await publish(
      emulator.snsClient,
      requestTopicArn,
      pyToolCall(2, 'hello from python'),
      pyClientAttributes({ method: 'tools/call', id: 2, sessionId, clientId: 'py-client' }),
    );
    const toolAnswer = await reader.nextRpc((rpc) => rpc.id === 2);
    expect(isCompactJson(toolAnswer.text)).toBe(true);
    expect(toolAnswer.rpc).toEqual({
      jsonrpc: '2.0',
      id: 2,
      result: { content: [{ type: 'text', text: 'hello from python' }] },
    });
    expect(toolAnswer.attributes).toMatchObject({ SessionId: sessionId, MessageType: 'jsonrpc' });
    // A response carries neither RequestId nor Method.
    expect(toolAnswer.attributes.RequestId).toBeUndefined();
    expect(toolAnswer.attributes.Method).toBeUndefined();
    // Nothing but the two answers was published to the client.
    expect(await reader.drain()).toHaveLength(0);
  });

  it('adopts a SessionId the client proposes, and echoes string ids exactly', async () => {
    const { manager, requestTopicArn, topicArn, reader } = await startServer();
    const proposed = `py-proposed-${randomUUID()}`;
    await publish(
      emulator.snsClient,
      requestTopicArn,
      pyInitialize('abc', { clientTopicArn: topicArn }),
      pyClientAttributes({ method: 'initialize', id: 'abc', clientId: 'py-client', sessionId: proposed }),
    );
    const answer = await reader.nextRpc((rpc) => rpc.id === 'abc');
    expect(answer.text).toContain('"id":"abc"');
    expect(answer.attributes.SessionId).toBe(proposed);
    expect([...manager.sessions.keys()]).toEqual([proposed]);
    await publish(
      emulator.snsClient,
      requestTopicArn,
      pyToolCall('7', 'string id'),
      pyClientAttributes({ method: 'tools/call', id: '7', sessionId: proposed, clientId: 'py-client' }),
    );
    const toolAnswer = await reader.nextRpc((rpc) => rpc.id === '7');
    expect(toolAnswer.text).toContain('"id":"7"');
  });

  it('reads ensure_ascii escapes and answers in UTF-8', async () => {
    const { requestTopicArn, topicArn, reader } = await startServer();
    const { sessionId } = await pyHandshake(requestTopicArn, topicArn, reader);
    const body = pyToolCall(4, 'héllo ☃ ✓');
    expect(body).toContain('"text": "h\\u00e9llo \\u2603 \\u2713"');
    await publish(
      emulator.snsClient,
      requestTopicArn,
      body,
      pyClientAttributes({ method: 'tools/call', id: 4, sessionId, clientId: 'py-client' }),
    );
    const answer = await reader.nextRpc((rpc) => rpc.id === 4);
    expect(answer.rpc.result).toEqual({ content: [{ type: 'text', text: 'héllo ☃ ✓' }] });
    expect(answer.text).toContain('héllo ☃ ✓');
  });

  it('answers an unsupported ProtocolVersion with -32600 and the request’s own id', async () => {
    const { requestTopicArn, topicArn, reader } = await startServer();
    const { sessionId } = await pyHandshake(requestTopicArn, topicArn, reader);
    const { body, attributes } = pyUnsupportedVersionRequest(sessionId);
    await publish(emulator.snsClient, requestTopicArn, body, attributes);
    const error = await reader.nextRpc((rpc) => rpc.id === 7);
    expect(error.rpc).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32600,
        message: `Unsupported protocol version: 1999-01-01. Supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
      },
    });
    expect(error.attributes.SessionId).toBe(sessionId);
  });
});

// ---------------------------------------------------------------------------------------------------

describe.each([
  { form: 'SNS envelope', raw: false },
  { form: 'raw delivery', raw: true },
])('SnsSqsClientTransport + SDK Client → Python-style server ($form)', ({ raw }) => {
  async function setup() {
    const server = await subscribedReader('compat-py-server', raw);
    const responseTopicArn = await emulator.createTopic('compat-ts-client');
    const responseQueueUrl = await emulator.createQueue('compat-ts-client');
    await emulator.subscribe(responseTopicArn, responseQueueUrl, { raw });
    const transport = new SnsSqsClientTransport({
      snsClient: emulator.snsClient,
      sqsClient: emulator.sqsClient,
      requestTopicArn: server.topicArn,
      responseTopicArn,
      responseQueueUrl,
      clientId: `ts-client-${randomUUID().slice(0, 8)}`,
      waitTimeSeconds: 1,
      messageAttributes: { Tenant: 'acme' },
    });
    const client = new Client({ name: 'ts-client', version: '1.0.0' });
    cleanups.push(() => client.close());
    return { requests: server.reader, responseTopicArn, transport, client };
  }

  it('publishes the handshake a Python server expects and adopts the SessionId it publishes back', async () => {
    const { requests, responseTopicArn, transport, client } = await setup();
    const connected = client.connect(transport);

    const initialize = await requests.next();
    expectAttributesWhereTheFormPutsThem(initialize, raw);
    expect(isCompactJson(initialize.text)).toBe(true);
    expect(initialize.rpc.method).toBe('initialize');
    // The client names its response topic (a fix: the Python gateway names the request topic here).
    expect(initialize.rpc.params?._meta).toEqual({ clientTopicArn: responseTopicArn });
    const initializeId = initialize.rpc.id as string | number;
    expect(initialize.attributes).toEqual({
      MessageType: 'jsonrpc',
      Timestamp: expect.stringMatching(/^\d+$/),
      RequestId: String(initializeId),
      Method: 'initialize',
      ClientId: transport.clientId,
      Tenant: 'acme',
    });
    expect(initialize.types).toMatchObject({ Timestamp: 'Number', RequestId: 'String', ClientId: 'String' });

    // The Python server publishes with json.dumps spacing and {DataType, StringValue} attributes.
    const sessionId = randomUUID().replaceAll('-', '');
    await publish(
      emulator.snsClient,
      responseTopicArn,
      pyInitializeResult(initializeId, '2025-06-18'),
      pyServerAttributes(sessionId),
    );
    await connected;
    expect(transport.sessionId).toBe(sessionId);
    expect(client.getServerVersion()).toEqual(PY_SERVER_INFO);

    const initialized = await requests.next();
    expect(initialized.rpc).toEqual({ jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(initialized.attributes).toMatchObject({
      SessionId: sessionId,
      ProtocolVersion: '2025-06-18',
      Method: 'notifications/initialized',
      ClientId: transport.clientId,
    });
    expect(initialized.attributes.RequestId).toBeUndefined();

    const listing = client.listTools();
    const list = await requests.next();
    expect(list.rpc.method).toBe('tools/list');
    expect(list.attributes).toMatchObject({ SessionId: sessionId, RequestId: String(list.rpc.id) });
    await publish(
      emulator.snsClient,
      responseTopicArn,
      pyDumps({
        jsonrpc: '2.0',
        id: list.rpc.id as string | number,
        result: { tools: [{ name: 'py_tool', inputSchema: { type: 'object', properties: {} } }] },
      }),
      pyServerAttributes(sessionId),
    );
    expect((await listing).tools.map((tool) => tool.name)).toEqual(['py_tool']);

    // The Python server's own request (ping) is answered with its id and the session attributes.
    await publish(
      emulator.snsClient,
      responseTopicArn,
      pyDumps({ jsonrpc: '2.0', id: 'srv-1', method: 'ping' }),
      pyServerAttributes(sessionId),
    );
    const pong = await requests.nextRpc((rpc) => rpc.id === 'srv-1');
    expect(pong.rpc).toEqual({ jsonrpc: '2.0', id: 'srv-1', result: {} });
    expect(pong.attributes).toMatchObject({ SessionId: sessionId, ProtocolVersion: '2025-06-18' });
    expect(pong.attributes.Method).toBeUndefined();
  });

  it('the gateway backend routes a Python server’s answers that use its own session id', async () => {
    const server = await subscribedReader('compat-py-gateway-server', raw);
    const backend = snsSqsBackend({
      snsClient: emulator.snsClient,
      sqsClient: emulator.sqsClient,
      requestTopicArn: server.topicArn,
      instanceId: 'gw',
      rawMessageDelivery: raw,
      waitTimeSeconds: 1,
    });
    cleanups.push(() => backend.close());
    const transport = await backend.createTransport({ sessionKey: 'k1' });
    const client = new Client({ name: 'via-gateway', version: '1.0.0' });
    cleanups.push(() => client.close());
    const connected = client.connect(transport);

    const initialize = await server.reader.next();
    // The gateway proposes its own id (on a topic of its own, the fleet's: PROTOCOL.md §7b) and names
    // its own response topic.
    expect(initialize.attributes.SessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(initialize.rpc.params?._meta).toEqual({ clientTopicArn: backend.responseTopicArn });
    // The request id the server sees is the gateway's, not the SDK client's.
    expect(String(initialize.rpc.id)).toMatch(/^[0-9a-f]{8}-[A-Za-z0-9_-]{22}$/);
    // This server does not adopt proposals: it answers under an id of its own.
    const serverSessionId = randomUUID().replaceAll('-', '');
    const responseTopicArn = backend.responseTopicArn as string;
    await publish(
      emulator.snsClient,
      responseTopicArn,
      pyInitializeResult(initialize.rpc.id as string, '2025-06-18'),
      pyServerAttributes(serverSessionId),
    );
    await connected;
    expect(transport.sessionId).toBe(serverSessionId);
    await server.reader.nextRpc((rpc) => rpc.method === 'notifications/initialized');

    // A notification names the session by the server's id, and the request it belongs to by ours.
    const seen: Array<{ message: JSONRPCMessage; extra: BackendMessageExtra | undefined }> = [];
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      seen.push({ message, extra });
      deliver?.(message, extra);
    };
    const calling = client.callTool({ name: 'py_tool', arguments: {} });
    const call = await server.reader.nextRpc((rpc) => rpc.method === 'tools/call');
    await publish(
      emulator.snsClient,
      responseTopicArn,
      pyDumps({
        jsonrpc: '2.0',
        method: 'notifications/message',
        params: { level: 'info', data: 'working' },
      }),
      {
        ...pyServerAttributes(serverSessionId),
        RelatedRequestId: { DataType: 'String', StringValue: String(call.rpc.id) },
      },
    );
    await publish(
      emulator.snsClient,
      responseTopicArn,
      pyDumps({
        jsonrpc: '2.0',
        id: call.rpc.id as string,
        result: { content: [{ type: 'text', text: 'py' }] },
      }),
      pyServerAttributes(serverSessionId),
    );
    expect(textOf(await calling)).toBe('py');
    const answer = seen.find(({ message }) => 'result' in message)?.message as { id: unknown };
    expect(answer.id).not.toBe(call.rpc.id);
    const log = seen.find(({ message }) => 'method' in message && message.method === 'notifications/message');
    expect(log?.extra?.relatedRequestId).toBe(answer.id);
    expect(backend.stats).toMatchObject({ unroutable: 0, invalid: 0 });
  });
});
