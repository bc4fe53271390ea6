import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { findNginx, type LoadBalancer, startLoadBalancer, textOf } from '@asyncmcp-internal/test-support';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, cleanEnv, killAll, parseLog, WAIT_MS, within } from './cli-process.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/worker-server.mjs', import.meta.url));
/** Longer than any wait below: a call that fails did not fail by timing out. */
const CLIENT_TIMEOUT_MS = 120_000;
/** Two gateways, a worker, a load balancer and sixteen sessions: each wait inside has its own bound. */
const HEAVY_TEST_MS = 150_000;
/** The bound on all the sessions' calls together. */
const SESSIONS_MS = 90_000;
const SESSIONS = 16;
const CALLS = 5;
/** `ASYNCMCP_TEST_LOAD_BALANCER=node` runs the Node proxy even where nginx is installed. */
const PREFER = process.env.ASYNCMCP_TEST_LOAD_BALANCER === 'node' ? 'node' : 'nginx';

interface Fleet {
  worker: CliProcess;
  gateways: CliProcess[];
  /** Each gateway's own origin, past the balancer. */
  origins: string[];
  balancer: LoadBalancer;
  /** The MCP endpoint through the load balancer: what every client here uses. */
  url: string;
}

/** What became of one client's session: `failure` says at which step and why, when it failed. */
interface Outcome {
  index: number;
  client?: Client;
  failure?: string;
}

/** A free loopback port: a gateway must be told its own webhook base URL, so its port is picked first. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

// Two gateway instances with --backend webhook, each on its own port and --webhook-base-url, in front of
// one `serve --backend webhook` worker, behind a plain round-robin load balancer (the documented nginx
// config, or a Node proxy that acts like it where nginx is missing): consecutive requests of one session
// land on different instances, and the worker answers each at the webhook of the instance that sent it.
describe('webhook gateway instances behind a round-robin load balancer (end to end)', () => {
  const clients: Client[] = [];
  const balancers: LoadBalancer[] = [];

  beforeAll(() => {
    if (PREFER === 'nginx' && findNginx() === undefined) {
      console.warn('nginx not installed: the fleet test runs through the Node round-robin proxy');
    }
  });

  afterEach(async () => {
    // Clients first, while the balancer still carries their closing requests; then what they went through.
    await Promise.allSettled(clients.splice(0).map((client) => client.close()));
    await Promise.allSettled(balancers.splice(0).map((balancer) => balancer.stop()));
    await killAll();
  });

  async function startFleet(env: Record<string, string> = {}): Promise<Fleet> {
    // The gateways' webhooks are on loopback: the worker's SSRF guard must allow it.
    const worker = new CliProcess(
      [
        'serve',
        '--backend',
        'webhook',
        '--port',
        '0',
        '--allow-private-networks',
        '--',
        process.execPath,
        FIXTURE,
      ],
      cleanEnv(env),
    );
    const serverUrl = String((await worker.waitForLog('serving')).url);
    const ports = await Promise.all([freePort(), freePort()]);
    const gateways = ports.map(
      (port) =>
        new CliProcess(
          [
            '--backend',
            'webhook',
            '--server-url',
            serverUrl,
            '--port',
            String(port),
            '--webhook-base-url',
            `http://127.0.0.1:${port}`,
          ],
          cleanEnv(env),
        ),
    );
    const urls = (await Promise.all(gateways.map((gateway) => gateway.url()))).map((url) => new URL(url));
    const balancer = await startLoadBalancer({ upstreams: urls.map((url) => url.origin), prefer: PREFER });
    balancers.push(balancer);
    if (PREFER === 'nginx' && findNginx() !== undefined) expect(balancer.kind).toBe('nginx');
    return {
      worker,
      gateways,
      origins: urls.map((url) => url.origin),
      balancer,
      url: new URL((urls[0] as URL).pathname, balancer.url).href,
    };
  }

  function echo(client: Client, text: string) {
    return client.callTool({ name: 'echo', arguments: { text } }, undefined, { timeout: CLIENT_TIMEOUT_MS });
  }

  /** Connects a client through the balancer, then runs `calls` echo calls on its session, one after another. */
  async function runSession(url: string, index: number, calls: number, label: string): Promise<Outcome> {
    const client = new Client({ name: 'webhook-fleet-e2e', version: '1.0.0' });
    clients.push(client);
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    } catch (error) {
      return { index, failure: `connect: ${String(error)}` };
    }
    for (let call = 0; call < calls; call++) {
      const outcome = await expectEcho(client, `${label} ${index}.${call}`).catch((error) => String(error));
      if (outcome !== undefined) return { index, client, failure: `call ${call}: ${outcome}` };
    }
    return { index, client };
  }

  /** Undefined when the session echoes `text`, else what it said instead. */
  async function expectEcho(client: Client, text: string): Promise<string | undefined> {
    const answer = textOf(await echo(client, text));
    return answer === `echo: ${text}` ? undefined : `answered ${JSON.stringify(answer)}`;
  }

  /** The failures among `outcomes`, one line each, and a summary naming how many failed at which step. */
  function failuresOf(outcomes: Outcome[]): { lines: string[]; summary: string } {
    const failed = outcomes.filter((outcome) => outcome.failure !== undefined);
    const steps = new Map<string, number>();
    for (const { failure } of failed) {
      const step = String(failure).slice(0, String(failure).indexOf(':'));
      steps.set(step, (steps.get(step) ?? 0) + 1);
    }
    const bySteps = [...steps]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([step, count]) => `${count} at ${step}`)
      .join(', ');
    return {
      lines: failed.map(({ index, failure }) => `session ${index}: ${failure}`),
      summary: `${failed.length} of ${outcomes.length} sessions failed${failed.length > 0 ? ` (${bySteps})` : ''}`,
    };
  }

  function range(count: number): number[] {
    return Array.from({ length: count }, (_, index) => index);
  }

  /** How many lines `cli` logged with `msg`. */
  function logged(cli: CliProcess, message: string): number {
    return cli.lines.stdout.filter((line) => parseLog(line)?.msg === message).length;
  }

  /** How many sessions of other instances the gateway at `origin` asked the worker about, by outcome. */
  async function adoptions(origin: string, outcome: 'adopted' | 'unknown'): Promise<number> {
    const text = await within(
      fetch(new URL('/metrics', origin)).then((answer) => answer.text()),
      'GET /metrics',
    );
    const line = text
      .split('\n')
      .find((candidate) =>
        candidate.startsWith(`asyncmcp_gateway_sessions_adopted_total{outcome="${outcome}"}`),
      );
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  /** POSTs a `tools/list` under `sessionId` through the balancer; resolves with the status and body. */
  function probe(url: string, sessionId: string) {
    return within(
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sessionId,
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 'probe', method: 'tools/list' }),
        signal: AbortSignal.timeout(WAIT_MS),
      }).then(async (answer) => ({ status: answer.status, body: await answer.text() })),
      'the answer for an unknown session',
    );
  }

  it(
    'answers every call of 16 sessions whose requests are spread over both instances, one worker session each',
    async () => {
      const fleet = await startFleet();
      const outcomes = await within(
        Promise.all(range(SESSIONS).map((index) => runSession(fleet.url, index, CALLS, 'call'))),
        `${SESSIONS} sessions of ${CALLS} calls`,
        SESSIONS_MS,
      );
      const { lines, summary } = failuresOf(outcomes);
      expect(lines, summary).toEqual([]);

      // Round robin, with no instance failing: each one answered about half of the requests.
      const answered = await fleet.balancer.answeredBy();
      const total = Object.values(answered).reduce((sum, count) => sum + count, 0);
      expect(total).toBeGreaterThanOrEqual(SESSIONS * (CALLS + 2));
      for (const count of Object.values(answered))
        expect(count, JSON.stringify(answered)).toBeGreaterThan(total / 4);
      // Each session was opened once at the worker, whichever instances served it; none was lost.
      expect(logged(fleet.worker, 'session opened')).toBe(SESSIONS);
      // Both instances took over sessions the other one opened.
      for (const origin of fleet.origins) expect(await adoptions(origin, 'adopted')).toBeGreaterThan(0);
    },
    HEAVY_TEST_MS,
  );

  it(
    'carries every session on through the other instance when one is SIGKILLed',
    async () => {
      const fleet = await startFleet();
      const before = await within(
        Promise.all(range(SESSIONS).map((index) => runSession(fleet.url, index, 1, 'before'))),
        `${SESSIONS} sessions`,
        SESSIONS_MS,
      );
      const opened = failuresOf(before);
      expect(opened.lines, `before the kill: ${opened.summary}`).toEqual([]);

      const victim = fleet.gateways[0] as CliProcess;
      victim.child.kill('SIGKILL');
      await within(victim.exited, 'the instance dying');

      // The balancer takes a refused connection to the next instance, so no client sees the dead one;
      // the worker answers each call at the webhook of the instance that is left.
      const after = await within(
        Promise.all(
          before.map(async ({ index, client }): Promise<Outcome> => {
            const failure = await expectEcho(client as Client, `after ${index}`).catch((error) =>
              String(error),
            );
            return { index, failure: failure === undefined ? undefined : `call after the kill: ${failure}` };
          }),
        ),
        `${SESSIONS} calls after the kill`,
        SESSIONS_MS,
      );
      const { lines, summary } = failuresOf(after);
      expect(lines, `after the kill: ${summary}`).toEqual([]);
      expect(logged(fleet.worker, 'session opened')).toBe(SESSIONS);
    },
    HEAVY_TEST_MS,
  );

  it('answers 404 through the balancer for a session no instance opened: at once when malformed, after one round trip otherwise', async () => {
    const fleet = await startFleet();
    // Round robin and nothing else running: one probe per instance, so each of them answers one.
    for (const sessionId of [randomUUID(), randomBytes(16).toString('hex')]) {
      for (const _instance of range(fleet.gateways.length)) {
        const response = await probe(fleet.url, sessionId);
        expect(response.status, response.body).toBe(404);
        expect(JSON.parse(response.body)).toMatchObject({
          error: { message: `Session not found: ${sessionId}` },
        });
      }
    }
    // Only the well-formed one was worth asking the worker about: once per instance.
    for (const origin of fleet.origins) {
      expect(await adoptions(origin, 'unknown')).toBe(1);
      expect(await adoptions(origin, 'adopted')).toBe(0);
    }
    expect(logged(fleet.worker, 'session opened')).toBe(0);
  });

  it('with a signing secret, refuses a session id the fleet did not mint without asking the worker', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const fleet = await startFleet({ ASYNCMCP_SIGNING_SECRET: secret });
    const outcome = await runSession(fleet.url, 0, CALLS, 'signed');
    expect(outcome.failure).toBeUndefined();
    const forged = randomBytes(32).toString('hex');
    const refusedBefore = fleet.worker.lines.stdout.length;
    for (const _instance of range(fleet.gateways.length)) {
      const response = await probe(fleet.url, forged);
      expect(response.status, response.body).toBe(404);
    }
    // Nothing reached the worker: it logs every refusal, and there was none.
    expect(
      fleet.worker.lines.stdout.slice(refusedBefore).filter((line) => Number(parseLog(line)?.level) >= 40),
    ).toEqual([]);
    for (const origin of fleet.origins) expect(await adoptions(origin, 'unknown')).toBe(0);
  });
});
