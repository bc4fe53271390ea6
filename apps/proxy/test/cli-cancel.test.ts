import { fileURLToPath } from 'node:url';
import { SqsClientTransport } from '@asyncmcp/sqs';
import {
  type QueueInspection,
  type SqsEmulator,
  startSqsEmulator,
  textOf,
} from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliProcess,
  closeClientsAndKillAll,
  startGatewayCli,
  startServeCli,
  stopEmulator,
  within,
} from './cli-process.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/cancel-server.mjs', import.meta.url));
/** More calls in one session than serve's default `maxInFlight` (100): the limit that clogged. */
const CALLS = 200;
/** One session may run CALLS requests here (32 by default), so the worker's own cap is what they meet. */
const PER_SESSION = ['--max-in-flight-per-session', String(CALLS)];
/** Far longer than the test: a call that ends did so because it was cancelled. */
const HOLD_MS = 600_000;
/** Longer than any wait below: a call that fails did not fail by timing out at the client. */
const CLIENT_TIMEOUT_MS = 120_000;
/** "At once": well under the 9 s after which a client takes a silent worker's session as lost. */
const ANSWER_MS = 8_000;

/** A connected SDK client, and for each request it sent, when its transport had handed it over. */
interface Session {
  client: Client;
  handedOver: Map<string, Promise<void>>;
}

/** Wraps `transport.send` to record, per request id, the promise of its send (resolved once handed over). */
function recordHandOvers(transport: Transport): Map<string, Promise<void>> {
  const handedOver = new Map<string, Promise<void>>();
  const send = transport.send.bind(transport);
  transport.send = (message: JSONRPCMessage, options) => {
    const sent = send(message, options);
    if ('method' in message && 'id' in message) handedOver.set(String(message.id), sent);
    return sent;
  };
  return handedOver;
}

// A client cancels (through the SDK's abort signal) many more calls in one session than `serve` holds in
// flight. Each cancelled request must settle at once — its queue message deleted, its place in flight
// freed — so the worker keeps answering its other sessions and new ones, and no message is left behind.
describe('cancelled calls through the real CLI (end to end)', () => {
  let sqs: SqsEmulator;
  const clients: Client[] = [];

  beforeAll(async () => {
    sqs = await startSqsEmulator();
  });

  afterEach(async () => {
    await closeClientsAndKillAll(clients);
  });

  afterAll(async () => {
    await stopEmulator(sqs);
  });

  /** One `serve` worker with its default limits but the per-session one; its inbox is where sessions go after initialize. */
  async function startServe(requestQueueUrl: string): Promise<{ serve: CliProcess; inboxQueueUrl: string }> {
    const { cli: serve, serving } = await startServeCli(sqs, {
      requestQueueUrl,
      command: [process.execPath, FIXTURE],
      flags: PER_SESSION,
    });
    expect(serving.inboxQueueUrl).toMatch(/asyncmcp-worker-/);
    return { serve, inboxQueueUrl: String(serving.inboxQueueUrl) };
  }

  /** The holds the server started and those it saw cancelled, from its stderr (passed through by serve). */
  function holds(serve: CliProcess): { started: number; cancelled: number } {
    const count = (prefix: string) => serve.lines.stderr.filter((line) => line.startsWith(prefix)).length;
    return { started: count('hold started '), cancelled: count('hold cancelled ') };
  }

  /** Where things stand, for a failure message: the queues and the server's holds. */
  async function describeState(serve: CliProcess, queues: Record<string, string>): Promise<string> {
    const states: Record<string, QueueInspection> = {};
    for (const [label, url] of Object.entries(queues)) states[label] = await sqs.inspect(url);
    return JSON.stringify({ ...states, holds: holds(serve) });
  }

  /** `promise`, bounded; a failure says where the queues and the server's holds stand. */
  async function expectSoon<T>(
    promise: Promise<T>,
    what: string,
    serve: CliProcess,
    queues: Record<string, string>,
  ): Promise<T> {
    try {
      return await within(promise, what, ANSWER_MS);
    } catch (error) {
      throw new Error(`${what}: ${String(error)}; state: ${await describeState(serve, queues)}`);
    }
  }

  /** Resolves once `condition` holds, checking it every few milliseconds (bounded). */
  async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
    await within(
      (async () => {
        while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
      })(),
      what,
    );
  }

  /**
   * Nothing left on the queues, in flight or visible, and every hold the server started was cancelled
   * there. Deletion follows settlement asynchronously, so this polls (bounded).
   */
  async function expectNothingLeft(serve: CliProcess, queues: Record<string, string>): Promise<void> {
    const empty = async () => {
      for (const url of Object.values(queues)) {
        const state = await sqs.inspect(url);
        if (state.inFlight + state.ready + state.delayed > 0) return false;
      }
      const { started, cancelled } = holds(serve);
      return started === cancelled;
    };
    try {
      await until(empty, 'the queues emptying');
    } catch (error) {
      throw new Error(`${String(error)}; state: ${await describeState(serve, queues)}`);
    }
    for (const url of Object.values(queues)) {
      expect(await sqs.inspect(url)).toEqual({ ready: 0, delayed: 0, inFlight: 0 });
    }
  }

  /**
   * Fires CALLS long holds in `session`, waits until its transport has handed every one over (so each
   * cancellation leaves the client after its request), then aborts each through its own AbortController
   * (the SDK sends `notifications/cancelled`). Resolves once every call has rejected as aborted.
   */
  async function cancelManyCalls(session: Session): Promise<void> {
    const before = new Set(session.handedOver.keys());
    const controllers = Array.from({ length: CALLS }, () => new AbortController());
    const calls = controllers.map((controller, index) =>
      session.client.callTool({ name: 'hold', arguments: { ms: HOLD_MS, tag: `call-${index}` } }, undefined, {
        signal: controller.signal,
        timeout: CLIENT_TIMEOUT_MS,
      }),
    );
    const outcomes = Promise.allSettled(calls);
    await until(
      async () => [...session.handedOver.keys()].filter((id) => !before.has(id)).length === CALLS,
      `${CALLS} calls reaching the transport`,
    );
    const sends = [...session.handedOver].filter(([id]) => !before.has(id)).map(([, sent]) => sent);
    await within(Promise.all(sends), `${CALLS} calls handed over`);
    for (const controller of controllers) controller.abort();

    for (const outcome of await within(outcomes, `${CALLS} calls rejecting`)) {
      expect(outcome.status).toBe('rejected');
      expect(String((outcome as PromiseRejectedResult).reason)).toMatch(/abort/i);
    }
  }

  async function expectEcho(
    session: Session,
    text: string,
    what: string,
    serve: CliProcess,
    queues: Record<string, string>,
  ) {
    const result = await expectSoon(
      session.client.callTool({ name: 'echo', arguments: { text } }, undefined, {
        timeout: CLIENT_TIMEOUT_MS,
      }),
      what,
      serve,
      queues,
    );
    expect(textOf(result)).toBe(`echo: ${text}`);
  }

  it('through the gateway CLI: 200 cancelled calls leave other sessions and new ones answered, nothing in flight', async () => {
    const requestQueueUrl = await sqs.createQueue('cancel-gateway-requests');
    const { serve, inboxQueueUrl } = await startServe(requestQueueUrl);
    const url = await startGatewayCli(sqs, ['--request-queue-url', requestQueueUrl], PER_SESSION);
    const queues = { requestQueue: requestQueueUrl, inbox: inboxQueueUrl };
    const connect = async (): Promise<Session> => {
      const transport = new StreamableHTTPClientTransport(new URL(url));
      const handedOver = recordHandOvers(transport);
      const client = new Client({ name: 'cancel-e2e', version: '1.0.0' });
      clients.push(client);
      await within(client.connect(transport), 'connecting through the gateway');
      return { client, handedOver };
    };

    const other = await connect();
    await expectEcho(other, 'before', 'a call in the other session before', serve, queues);
    const busy = await connect();
    await cancelManyCalls(busy);

    await expectEcho(other, 'after', 'a call in the other session after the cancellations', serve, queues);
    const fresh = await expectSoon(connect(), 'a new session initializing', serve, queues);
    await expectEcho(fresh, 'new', 'a call in a new session', serve, queues);
    await expectNothingLeft(serve, queues);
  }, 60_000);

  it('straight over SQS (SqsClientTransport): the same', async () => {
    const requestQueueUrl = await sqs.createQueue('cancel-sqs-requests');
    const { serve, inboxQueueUrl } = await startServe(requestQueueUrl);
    const queues = { requestQueue: requestQueueUrl, inbox: inboxQueueUrl };
    const connect = async (): Promise<Session> => {
      const transport = new SqsClientTransport({
        sqsClient: sqs.sqsClient,
        requestQueueUrl,
        responseQueueUrl: await sqs.createQueue('cancel-sqs-client'),
        waitTimeSeconds: 1,
      });
      const handedOver = recordHandOvers(transport);
      const client = new Client({ name: 'cancel-e2e', version: '1.0.0' });
      clients.push(client);
      await within(client.connect(transport), 'connecting over SQS');
      return { client, handedOver };
    };

    const other = await connect();
    await expectEcho(other, 'before', 'a call in the other session before', serve, queues);
    const busy = await connect();
    await cancelManyCalls(busy);

    await expectEcho(other, 'after', 'a call in the other session after the cancellations', serve, queues);
    const fresh = await expectSoon(connect(), 'a new session initializing', serve, queues);
    await expectEcho(fresh, 'new', 'a call in a new session', serve, queues);
    await expectNothingLeft(serve, queues);
  }, 60_000);
});
