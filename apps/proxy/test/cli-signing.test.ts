import { fileURLToPath } from 'node:url';
import {
  buildClientAttributes,
  buildServerAttributes,
  type MessageAttributes,
  MessageSigner,
} from '@asyncmcp/core';
import { toSqsAttributes } from '@asyncmcp/sqs';
import { type SqsEmulator, SqsQueueReader, startSqsEmulator, textOf } from '@asyncmcp-internal/test-support';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CliProcess,
  cleanEnv,
  closeClientsAndKillAll,
  parseLog,
  stopEmulator,
  WAIT_MS,
  within,
} from './cli-process.js';
import { type RecordedSend, RecordingProxy } from './recording-proxy.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/counter-server.mjs', import.meta.url));
const SECRET = 'whsec_YSBzaGFyZWQgc2VjcmV0IG9mIHRoZSB0ZXN0IGZsZWV0LCAxNisgYnl0ZXM=';
const WRONG_SECRET = 'whsec_YSBzZWNyZXQgdGhlIGF0dGFja2VyIG1hZGUgdXAsIGFsc28gbG9uZw==';
const REFUSED = 'message refused: its signature does not hold';

type Backend = 'sqs' | 'sns-sqs';

/** The refusal log lines a process wrote so far. */
function refusals(cli: CliProcess): Record<string, unknown>[] {
  return cli.lines.stdout.map(parseLog).filter((log) => log?.msg === REFUSED) as Record<string, unknown>[];
}

/** Resolves once `cli` has logged `count` refusals (bounded), with them. */
async function untilRefusals(cli: CliProcess, count: number): Promise<Record<string, unknown>[]> {
  await expect
    .poll(() => refusals(cli).length, { timeout: WAIT_MS, interval: 50 })
    .toBeGreaterThanOrEqual(count);
  return refusals(cli);
}

function attributeValue(sent: RecordedSend, name: string): string | undefined {
  return sent.attributes[name]?.StringValue;
}

// The attacks of a shared queue, through the real CLI: a gateway and a `serve` worker, both with
// --signing-secret, on the emulator. The attacker may send to every queue and topic and read what is
// sent (a recording proxy shows it), but has no secret.
describe.each<Backend>(['sqs', 'sns-sqs'])('signed messages over %s (end to end)', (backend) => {
  let sqs: SqsEmulator;
  let proxy: RecordingProxy;
  let endpoint: string;
  /** Clients of the proxy: what the worker and gateway make is named by its address. */
  let proxiedSqs: SQSClient;
  let proxiedSns: SNSClient;
  const clients: Client[] = [];

  beforeAll(async () => {
    sqs = await startSqsEmulator();
    proxy = new RecordingProxy(sqs.endpoint);
    endpoint = await proxy.start();
    const config = {
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    proxiedSqs = new SQSClient(config);
    proxiedSns = new SNSClient(config);
  });

  afterEach(async () => {
    await closeClientsAndKillAll(clients);
  });

  afterAll(async () => {
    proxiedSqs?.destroy();
    proxiedSns?.destroy();
    await proxy?.stop();
    await stopEmulator(sqs);
  });

  async function createQueue(prefix: string): Promise<string> {
    const created = await proxiedSqs.send(
      new CreateQueueCommand({ QueueName: `${prefix}-${Math.random().toString(16).slice(2, 10)}` }),
    );
    return created.QueueUrl as string;
  }

  function awsFlags(): string[] {
    return [
      '--backend',
      backend,
      '--endpoint-url',
      endpoint,
      '--region',
      'us-east-1',
      '--signing-secret',
      SECRET,
    ];
  }

  /** A worker and a gateway, both signing, and an SDK client connected through the gateway. */
  async function startFleet() {
    const requestQueueUrl = await createQueue('signing-requests');
    const deadLetterQueueUrl = await createQueue('signing-dlq');
    let requestTopicArn: string | undefined;
    if (backend === 'sns-sqs') {
      requestTopicArn = await sqs.createTopic('signing-requests');
      // Envelope delivery: the signed attributes arrive inside the SNS envelope.
      await sqs.subscribe(requestTopicArn, requestQueueUrl, { raw: false });
    }
    const worker = new CliProcess(
      [
        'serve',
        ...awsFlags(),
        '--request-queue-url',
        requestQueueUrl,
        '--dead-letter-queue-url',
        deadLetterQueueUrl,
        '--',
        process.execPath,
        FIXTURE,
      ],
      cleanEnv(),
    );
    const serving = await worker.waitForLog('serving');
    expect(serving.signing).toBe('on');
    const gateway = new CliProcess(
      [
        ...awsFlags(),
        ...(requestTopicArn === undefined
          ? ['--request-queue-url', requestQueueUrl]
          : ['--request-topic-arn', requestTopicArn]),
        '--port',
        '0',
      ],
      cleanEnv(),
    );
    const url = await gateway.url();
    const transport = new StreamableHTTPClientTransport(new URL(url));
    const client = new Client({ name: 'signing-e2e', version: '1.0.0' });
    clients.push(client);
    await within(client.connect(transport), 'connecting through the gateway');
    const responseQueue = await gateway.waitForLog('created the gateway response queue');
    const responseTopicArn =
      backend === 'sns-sqs'
        ? String((await gateway.waitForLog('created the gateway response topic')).responseTopicArn)
        : undefined;
    return {
      worker,
      gateway,
      client,
      requestQueueUrl,
      requestTopicArn,
      deadLetterQueueUrl,
      inboxQueueUrl: String(serving.inboxQueueUrl),
      responseQueueUrl: String(responseQueue.responseQueueUrl),
      responseTopicArn,
    };
  }

  async function call(client: Client, name: string): Promise<string> {
    return textOf(await within(client.callTool({ name, arguments: {} }), `tools/call ${name}`));
  }

  /** The last message the gateway sent to the worker for the tool `name`, as the attacker read it. */
  function sentCall(name: string): RecordedSend {
    const found = proxy.find(
      (rpc) => rpc.method === 'tools/call' && (rpc.params as { name?: string } | undefined)?.name === name,
    );
    const last = found.at(-1);
    if (!last) throw new Error(`no tools/call ${name} was sent through the proxy`);
    return last;
  }

  /** A message as the attacker sends it: put on a queue, or published to a topic. */
  async function inject(
    where: { queueUrl: string } | { topicArn: string },
    body: unknown,
    attributes: MessageAttributes,
  ): Promise<void> {
    const text = JSON.stringify(body);
    if ('queueUrl' in where) {
      await sqs.sqsClient.send(
        new SendMessageCommand({
          QueueUrl: where.queueUrl,
          MessageBody: text,
          MessageAttributes: toSqsAttributes(attributes),
        }),
      );
    } else {
      await sqs.snsClient.send(
        new PublishCommand({
          TopicArn: where.topicArn,
          Message: text,
          MessageAttributes: toSqsAttributes(attributes),
        }),
      );
    }
  }

  /** A `tools/call bump` of a live session, unsigned or signed with a secret that is not the fleet's. */
  function injectedBump(sessionId: string, id: number, responseQueueUrl: string, signed: boolean) {
    const message = {
      jsonrpc: '2.0' as const,
      id,
      method: 'tools/call',
      params: { name: 'bump', arguments: {}, _meta: { responseQueueUrl, clientTopicArn: responseQueueUrl } },
    };
    const attributes = buildClientAttributes({
      message,
      clientId: 'attacker',
      sessionId,
      protocolVersion: '2025-11-25',
    });
    const text = JSON.stringify(message);
    return {
      message,
      attributes: signed ? new MessageSigner({ secret: WRONG_SECRET }).sign(text, attributes) : attributes,
    };
  }

  it('never runs a tools/call injected on the request queue or the worker’s inbox, refuses replays, and keeps serving', async () => {
    const fleet = await startFleet();
    expect(await call(fleet.client, 'count')).toBe('0');
    const genuine = sentCall('count');
    const sessionId = attributeValue(genuine, 'SessionId') as string;
    expect(sessionId).toBeDefined();
    // Every message the fleet sends is signed.
    expect(attributeValue(genuine, 'Signature')).toMatch(/^v1,/);

    // Injected where every client sends (the queue, or the topic), and on the worker's own inbox.
    const shared =
      fleet.requestTopicArn === undefined
        ? { queueUrl: fleet.requestQueueUrl }
        : { topicArn: fleet.requestTopicArn };
    const unsigned = injectedBump(sessionId, 9001, fleet.responseQueueUrl, false);
    const forged = injectedBump(sessionId, 9002, fleet.responseQueueUrl, true);
    await inject(shared, unsigned.message, unsigned.attributes);
    await inject(shared, forged.message, forged.attributes);
    await inject({ queueUrl: fleet.inboxQueueUrl }, unsigned.message, unsigned.attributes);
    await inject({ queueUrl: fleet.inboxQueueUrl }, forged.message, forged.attributes);
    const refused = await untilRefusals(fleet.worker, 4);
    expect(refused.map((log) => log.reason).sort()).toEqual(['forged', 'forged', 'unsigned', 'unsigned']);
    expect(await call(fleet.client, 'count')).toBe('0');

    // Refused messages are kept in the dead-letter queue, as they came, and nothing else is.
    const dlq = new SqsQueueReader(sqs.sqsClient, fleet.deadLetterQueueUrl);
    const kept: string[] = [];
    for (let index = 0; index < 4; index++) {
      const message = await dlq.next();
      const body = JSON.parse(message.Body ?? '{}') as { Message?: string; id?: number };
      // Over SNS the worker's queue holds the envelope; the JSON-RPC message is inside it.
      const rpc = body.Message === undefined ? body : (JSON.parse(body.Message) as { id?: number });
      kept.push(String(rpc.id));
    }
    expect(kept.sort()).toEqual(['9001', '9001', '9002', '9002']);

    // A genuine signed request, sent again by the attacker: refused as a replay, wherever it is put.
    expect(await call(fleet.client, 'bump')).toBe('1');
    const bump = sentCall('bump');
    for (const queueUrl of [bump.queueUrl, fleet.requestQueueUrl]) {
      await sqs.sqsClient.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: bump.body,
          MessageAttributes: bump.attributes,
        }),
      );
    }
    const afterReplay = await untilRefusals(fleet.worker, 6);
    expect(afterReplay.slice(4).map((log) => log.reason)).toEqual(['replayed', 'replayed']);

    // The worker kept serving the session: the genuine calls work, and ran once each.
    expect(await call(fleet.client, 'bump')).toBe('2');
    expect(await call(fleet.client, 'count')).toBe('2');
  });

  it('refuses a forged answer on the gateway’s response channel: the pending call gets the genuine one', async () => {
    const fleet = await startFleet();
    expect(await call(fleet.client, 'count')).toBe('0');
    const pending = fleet.client.callTool({ name: 'wait', arguments: {} });
    // The attacker reads the request as it goes to the worker: its wire id and session id.
    await expect
      .poll(() => proxy.find((rpc) => (rpc.params as { name?: string })?.name === 'wait').length, {
        timeout: WAIT_MS,
        interval: 50,
      })
      .toBeGreaterThan(0);
    const request = sentCall('wait');
    const wire = JSON.parse(request.body) as { id: number | string };
    const sessionId = attributeValue(request, 'SessionId') as string;
    const forgedAnswer = {
      jsonrpc: '2.0' as const,
      id: wire.id,
      result: { content: [{ type: 'text', text: 'forged' }] },
    };
    const attributes = buildServerAttributes({ message: forgedAnswer, sessionId });
    const signedWrong = new MessageSigner({ secret: WRONG_SECRET }).sign(
      JSON.stringify(forgedAnswer),
      attributes,
    );
    const where =
      fleet.responseTopicArn === undefined
        ? { queueUrl: fleet.responseQueueUrl }
        : { topicArn: fleet.responseTopicArn };
    await inject(where, forgedAnswer, attributes);
    await inject(where, forgedAnswer, signedWrong);
    const refused = await untilRefusals(fleet.gateway, 2);
    expect(refused.map((log) => log.reason).sort()).toEqual(['forged', 'unsigned']);

    expect(await call(fleet.client, 'release')).toBe('released');
    expect(textOf(await within(pending, 'the pending tools/call wait'))).toBe('the genuine answer');
    expect(await call(fleet.client, 'count')).toBe('0');
  });
});

// Without any secret: `serve --bind-sessions-to-sender` trusts SQS's word on who sent each message
// (`SenderId`, the sender's identity, which the proxy stamps as SQS does: by the signing access key).
describe('sessions bound to their sender over sqs (end to end)', () => {
  let sqs: SqsEmulator;
  let proxy: RecordingProxy;
  let endpoint: string;
  const clients: Client[] = [];
  const credentials = (accessKeyId: string) => ({ accessKeyId, secretAccessKey: 'test' });

  beforeAll(async () => {
    sqs = await startSqsEmulator();
    proxy = new RecordingProxy(sqs.endpoint, { stampSenders: true });
    endpoint = await proxy.start();
  });

  afterEach(async () => {
    await closeClientsAndKillAll(clients);
  });

  afterAll(async () => {
    await proxy?.stop();
    await stopEmulator(sqs);
  });

  it('never runs a tools/call injected under other credentials into a live session; the session keeps working', async () => {
    const fleetSqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: credentials('test') });
    const attackerSqs = new SQSClient({
      endpoint,
      region: 'us-east-1',
      credentials: credentials('AKIAATTACKER'),
    });
    try {
      const { QueueUrl: requestQueueUrl } = await fleetSqs.send(
        new CreateQueueCommand({ QueueName: `bound-requests-${Math.random().toString(16).slice(2, 10)}` }),
      );
      const flags = ['--backend', 'sqs', '--endpoint-url', endpoint, '--region', 'us-east-1'];
      const worker = new CliProcess(
        [
          'serve',
          ...flags,
          '--request-queue-url',
          String(requestQueueUrl),
          '--bind-sessions-to-sender',
          '--',
          process.execPath,
          FIXTURE,
        ],
        cleanEnv(),
      );
      const serving = await worker.waitForLog('serving');
      expect(serving).toMatchObject({ bindSessionsToSender: true, signing: 'off' });
      const gateway = new CliProcess(
        [...flags, '--request-queue-url', String(requestQueueUrl), '--port', '0'],
        cleanEnv(),
      );
      const client = new Client({ name: 'bound-e2e', version: '1.0.0' });
      clients.push(client);
      await within(
        client.connect(new StreamableHTTPClientTransport(new URL(await gateway.url()))),
        'connecting through the gateway',
      );
      const call = async (name: string) =>
        textOf(await within(client.callTool({ name, arguments: {} }), `tools/call ${name}`));
      expect(await call('count')).toBe('0');

      const genuine = proxy
        .find((rpc) => (rpc.params as { name?: string } | undefined)?.name === 'count')
        .at(-1);
      const sessionId = genuine?.attributes.SessionId?.StringValue as string;
      const responseQueueUrl = String(
        (await gateway.waitForLog('created the gateway response queue')).responseQueueUrl,
      );
      const injected = injectedRequest(sessionId, responseQueueUrl);
      for (const queueUrl of [String(requestQueueUrl), String(serving.inboxQueueUrl)]) {
        await attackerSqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: JSON.stringify(injected.message),
            MessageAttributes: toSqsAttributes(injected.attributes),
          }),
        );
      }
      const refused = 'message refused: not from the sender that opened its session';
      await expect
        .poll(() => worker.lines.stdout.filter((line) => parseLog(line)?.msg === refused).length, {
          timeout: WAIT_MS,
          interval: 50,
        })
        .toBe(2);
      expect(worker.lines.stdout.map(parseLog).find((log) => log?.msg === refused)).toMatchObject({
        senderId: 'AKIAATTACKER',
      });
      expect(await call('count')).toBe('0');
      expect(await call('bump')).toBe('1');
    } finally {
      fleetSqs.destroy();
      attackerSqs.destroy();
    }
  });
});

/** An unsigned `tools/call bump` naming a live session, as anyone who may send to the queue can write it. */
function injectedRequest(sessionId: string, responseQueueUrl: string) {
  const message = {
    jsonrpc: '2.0' as const,
    id: 9100,
    method: 'tools/call',
    params: { name: 'bump', arguments: {}, _meta: { responseQueueUrl } },
  };
  return {
    message,
    attributes: buildClientAttributes({
      message,
      clientId: 'attacker',
      sessionId,
      protocolVersion: '2025-11-25',
    }),
  };
}
