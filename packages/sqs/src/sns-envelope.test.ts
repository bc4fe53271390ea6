import {
  buildClientAttributes,
  MessageSigner,
  MessageVerifier,
  type QueueMessage,
  type QueueSource,
  VerifiedQueueSource,
} from '@asyncmcp/core';
import { describe, expect, it } from 'vitest';
import {
  SnsEnvelopeUnwrapper,
  snsSignedContent,
  type UnwrappedBody,
  unwrapSnsEnvelope,
} from './sns-envelope.js';
import { toSqsAttributes } from './sqs-attributes.js';

function message(result: UnwrappedBody): {
  body: string;
  attributes: Record<string, string>;
  fromSns: boolean;
} {
  if (result.kind !== 'message') throw new Error(`expected a message, got ${result.kind}`);
  return { body: result.body, attributes: result.attributes, fromSns: result.fromSnsEnvelope };
}

describe('unwrapSnsEnvelope', () => {
  const jsonRpcBody = '{"jsonrpc":"2.0","id":1,"method":"ping"}';

  /** An SNS notification of `jsonRpcBody` whose envelope carries these string attributes. */
  function notification(attributes: Record<string, string>): string {
    const entries = Object.entries(attributes).map(([name, value]) => [
      name,
      { Type: 'String', Value: value },
    ]);
    return JSON.stringify({
      Type: 'Notification',
      Message: jsonRpcBody,
      MessageAttributes: Object.fromEntries(entries),
    });
  }

  it('passes a raw (raw-delivery) body through with its SQS attributes', () => {
    const result = message(unwrapSnsEnvelope(jsonRpcBody, { SessionId: 's1' }));
    expect(result).toEqual({ body: jsonRpcBody, attributes: { SessionId: 's1' }, fromSns: false });
  });

  it('passes a raw body through without attributes', () => {
    expect(message(unwrapSnsEnvelope(jsonRpcBody))).toEqual({
      body: jsonRpcBody,
      attributes: {},
      fromSns: false,
    });
  });

  it('unwraps an SNS Notification envelope and reads its MessageAttributes {Type, Value}', () => {
    const envelope = JSON.stringify({
      Type: 'Notification',
      MessageId: 'm-1',
      TopicArn: 'arn:aws:sns:us-east-1:123:requests',
      Message: jsonRpcBody,
      Timestamp: '2025-01-01T00:00:00.000Z',
      MessageAttributes: {
        SessionId: { Type: 'String', Value: 'sess-1' },
        ClientId: { Type: 'String', Value: 'client-1' },
        Timestamp: { Type: 'Number', Value: '1700000000' },
      },
    });
    const result = message(unwrapSnsEnvelope(envelope));
    expect(result.body).toBe(jsonRpcBody);
    expect(result.fromSns).toBe(true);
    expect(result.attributes).toEqual({ SessionId: 'sess-1', ClientId: 'client-1', Timestamp: '1700000000' });
  });

  it('unwraps an envelope with Python json.dumps spacing', () => {
    const envelope = `{"Type": "Notification", "Message": ${JSON.stringify(jsonRpcBody)}}`;
    expect(message(unwrapSnsEnvelope(envelope)).body).toBe(jsonRpcBody);
  });

  it('merges: SQS attributes first, envelope attributes only for names not already present', () => {
    const envelope = notification({ SessionId: 'from-envelope', Method: 'ping' });
    const result = message(unwrapSnsEnvelope(envelope, { SessionId: 'from-sqs', ClientId: 'c' }));
    expect(result.attributes).toEqual({ SessionId: 'from-sqs', ClientId: 'c', Method: 'ping' });
  });

  it('merges envelope attributes whose names are Object.prototype keys', () => {
    const envelope = notification({ constructor: 'a', toString: 'b' });
    expect(message(unwrapSnsEnvelope(envelope)).attributes).toEqual({ constructor: 'a', toString: 'b' });
  });

  it('re-serialises a Message that is not a string', () => {
    const envelope = JSON.stringify({ Type: 'Notification', Message: { jsonrpc: '2.0', method: 'x' } });
    const result = message(unwrapSnsEnvelope(envelope));
    expect(JSON.parse(result.body)).toEqual({ jsonrpc: '2.0', method: 'x' });
    expect(result.fromSns).toBe(true);
  });

  it('recognises a SubscriptionConfirmation as not a JSON-RPC message', () => {
    const envelope = JSON.stringify({
      Type: 'SubscriptionConfirmation',
      MessageId: 'm',
      Token: 't',
      TopicArn: 'arn:aws:sns:us-east-1:123:responses',
      Message: 'You have chosen to subscribe to the topic ...',
      SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t',
    });
    expect(unwrapSnsEnvelope(envelope)).toEqual({
      kind: 'subscription-confirmation',
      subscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t',
      topicArn: 'arn:aws:sns:us-east-1:123:responses',
      token: 't',
    });
  });

  it('recognises an UnsubscribeConfirmation', () => {
    const envelope = JSON.stringify({ Type: 'UnsubscribeConfirmation', Message: 'bye', TopicArn: 'arn:t' });
    expect(unwrapSnsEnvelope(envelope)).toEqual({ kind: 'unsubscribe-confirmation', topicArn: 'arn:t' });
  });

  it('does not unwrap a JSON-RPC body that merely contains "Type" and "Message" in its params', () => {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: {
        name: 'post',
        arguments: { Type: 'Notification', Message: 'hello', text: 'the "Type" field' },
      },
    });
    expect(body).toContain('"Type"');
    expect(message(unwrapSnsEnvelope(body))).toEqual({ body, attributes: {}, fromSns: false });
  });

  it('does not unwrap a JSON-RPC body whose string value mentions the word Type', () => {
    const body =
      '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"\\"Type\\": Message"}}';
    expect(message(unwrapSnsEnvelope(body))).toEqual({ body, attributes: {}, fromSns: false });
  });

  it('does not unwrap an object with Type but no Message, or a non-string Type', () => {
    const noMessage = '{"Type":"Notification","Subject":"x"}';
    expect(message(unwrapSnsEnvelope(noMessage)).body).toBe(noMessage);
    const numericType = '{"Type":1,"Message":"x"}';
    expect(message(unwrapSnsEnvelope(numericType)).body).toBe(numericType);
  });

  it('returns unparseable or non-object text unchanged for the codec to reject', () => {
    const broken = '{"Type": "Notification", "Message": ';
    expect(message(unwrapSnsEnvelope(broken))).toEqual({ body: broken, attributes: {}, fromSns: false });
    const array = '[{"Type":"Notification","Message":"x"}]';
    expect(message(unwrapSnsEnvelope(array)).body).toBe(array);
  });
});

describe('SnsEnvelopeUnwrapper', () => {
  it('unwraps each message once, however often it is asked', () => {
    const unwrapper = new SnsEnvelopeUnwrapper();
    const queued: QueueMessage = {
      messageId: 'm',
      receiptHandle: 'r',
      body: JSON.stringify({ Type: 'Notification', Message: '{"jsonrpc":"2.0","method":"ping"}' }),
      attributes: {},
    };
    const first = unwrapper.unwrap(queued);
    expect(unwrapper.unwrap(queued)).toBe(first);
    expect(message(first).fromSns).toBe(true);
  });
});

describe('VerifiedQueueSource over SNS deliveries (snsSignedContent)', () => {
  const SECRET = 'whsec_YSBzZWNyZXQgb2Ygc2l4dGVlbiBieXRlcyBvciBtb3Jl';
  const BODY = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"count"}}';
  const RECEIVE = {
    maxMessages: 10,
    waitTimeSeconds: 0,
    visibilityTimeoutSeconds: 30,
    signal: new AbortController().signal,
  };

  /** A source over `bodies` (message id → body) that records what it deleted. */
  function verified(bodies: Record<string, string>): { source: VerifiedQueueSource; deleted: string[] } {
    const deleted: string[] = [];
    const queue: QueueSource = {
      description: 'sns-fed-queue',
      receive: async () =>
        Object.entries(bodies).map(([messageId, body]) => ({
          messageId,
          receiptHandle: messageId,
          body,
          attributes: {},
        })),
      delete: async (message) => {
        deleted.push(message.messageId);
      },
      changeVisibility: async () => {},
    };
    const verifier = new MessageVerifier({ secret: SECRET });
    return {
      source: new VerifiedQueueSource({ source: queue, verifier, signedContent: snsSignedContent }),
      deleted,
    };
  }

  it('passes SNS control messages through unchecked, for the control handler', async () => {
    const confirmation = JSON.stringify({
      Type: 'SubscriptionConfirmation',
      Message: 'confirm',
      TopicArn: 't',
    });
    const { source } = verified({ control: confirmation });
    expect((await source.receive(RECEIVE)).map((message) => message.messageId)).toEqual(['control']);
  });

  it('checks the JSON-RPC message and attributes inside an SNS envelope', async () => {
    const signed = new MessageSigner({ secret: SECRET }).sign(
      BODY,
      buildClientAttributes({
        message: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'count' } },
        clientId: 'c',
        sessionId: 's',
      }),
    );
    const envelope = (message: string) =>
      JSON.stringify({
        Type: 'Notification',
        Message: message,
        MessageAttributes: Object.fromEntries(
          Object.entries(toSqsAttributes(signed)).map(([name, a]) => [
            name,
            { Type: a.DataType, Value: a.StringValue },
          ]),
        ),
      });
    const { source, deleted } = verified({
      good: envelope(BODY),
      changed: envelope(BODY.replace('count', 'wipe')),
    });
    expect((await source.receive(RECEIVE)).map((message) => message.messageId)).toEqual(['good']);
    expect(deleted).toEqual(['changed']);
  });
});
