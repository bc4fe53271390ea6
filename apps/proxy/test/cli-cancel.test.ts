import type { QueueInspection } from '@asyncmcp-internal/test-support';
import { textOf } from '@asyncmcp-internal/test-support';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { type CliProcess, startGatewayCli, startServeCli, within } from './cli-process.js';
import {
  CLIENT_TIMEOUT_MS,
  echo,
  pollUntil,
  sqsClientTransport,
  useCliEmulator,
  useGatewayClients,
} from './e2e-suite.js';
import { CANCEL_SERVER } from './fixtures.js';

/** More calls in one session than serve's default `maxInFlight` (100): the limit that clogged. */
const CALLS = 200;
/** One session may run CALLS requests here (32 by default), so the worker's own cap is what they meet. */
const PER_SESSION = ['--max-in-flight-per-session', String(CALLS)];
/** Far longer than the test: a call that ends did so because it was cancelled. */
const HOLD_MS = 600_000;
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
  const sqs = useCliEmulator();
  const { connectOver } = useGatewayClients('cancel-e2e');

  /** One `serve` worker with its default limits but the per-session one; its inbox is where sessions go after initialize. */
  async function startServe(requestQueueUrl: string): Promise<{ serve: CliProcess; inboxQueueUrl: string }> {
    const { cli: serve, serving } = await startServeCli(sqs, {
      requestQueueUrl,
      command: [process.execPath, CANCEL_SERVER],
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
      await pollUntil(empty, 'the queues emptying', { interval: 20 });
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
    await pollUntil(
      async () => [...session.handedOver.keys()].filter((id) => !before.has(id)).length === CALLS,
      `${CALLS} calls reaching the transport`,
      { interval: 20 },
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
    const result = await expectSoon(echo(session.client, text), what, serve, queues);
    expect(textOf(result)).toBe(`echo: ${text}`);
  }

  /** Ways a client reaches the worker on `requestQueueUrl`: each starts what it needs, then makes a transport per session. */
  const routes = [
    {
      route: 'through the gateway CLI',
      prefix: 'cancel-gateway',
      async start(requestQueueUrl: string) {
        const url = await startGatewayCli(sqs, ['--request-queue-url', requestQueueUrl], PER_SESSION);
        return {
          what: 'connecting through the gateway',
          transport: async () => new StreamableHTTPClientTransport(new URL(url)),
        };
      },
    },
    {
      route: 'straight over SQS (SqsClientTransport)',
      prefix: 'cancel-sqs',
      async start(requestQueueUrl: string) {
        return {
          what: 'connecting over SQS',
          transport: () => sqsClientTransport(sqs, requestQueueUrl, 'cancel-sqs-client'),
        };
      },
    },
  ];

  for (const { route, prefix, start } of routes)
    it(`${route}: 200 cancelled calls leave other sessions and new ones answered, nothing in flight`, async () => {
      const requestQueueUrl = await sqs.createQueue(`${prefix}-requests`);
      const { serve, inboxQueueUrl } = await startServe(requestQueueUrl);
      const { what, transport } = await start(requestQueueUrl);
      const queues = { requestQueue: requestQueueUrl, inbox: inboxQueueUrl };
      const connect = async (): Promise<Session> => {
        const opened = await transport();
        const handedOver = recordHandOvers(opened);
        return { client: await connectOver(opened, what), handedOver };
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
