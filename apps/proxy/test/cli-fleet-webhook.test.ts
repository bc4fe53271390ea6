import { randomBytes, randomUUID } from 'node:crypto';
import { freeLoopbackPort } from '@asyncmcp-internal/test-support';
import { describe, expect, it } from 'vitest';
import { CliProcess, cleanEnv, parseLog, within } from './cli-process.js';
import { postUnderSession } from './e2e-suite.js';
import { WORKER_SERVER } from './fixtures.js';
import {
  type BalancedGateways,
  CALLS,
  expectRequestsSpreadEvenly,
  failuresOf,
  HEAVY_TEST_MS,
  range,
  SESSIONS,
  useFleetSessions,
} from './fleet-session.js';

interface Fleet extends BalancedGateways {
  worker: CliProcess;
}

// Two gateway instances with --backend webhook, each on its own port and --webhook-base-url, in front of
// one `serve --backend webhook` worker, behind a plain round-robin load balancer (the documented nginx
// config, or a Node proxy that acts like it where nginx is missing): consecutive requests of one session
// land on different instances, and the worker answers each at the webhook of the instance that sent it.
describe('webhook gateway instances behind a round-robin load balancer (end to end)', () => {
  const { balance, runSession, runSessions, expectSessionsToOutliveAnInstance } =
    useFleetSessions('webhook-fleet-e2e');

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
        WORKER_SERVER,
      ],
      cleanEnv(env),
    );
    const serverUrl = String((await worker.waitForLog('serving')).url);
    const ports = await Promise.all([freeLoopbackPort(), freeLoopbackPort()]);
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
    return { ...(await balance(gateways)), worker };
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

  it(
    'answers every call of 16 sessions whose requests are spread over both instances, one worker session each',
    async () => {
      const fleet = await startFleet();
      const outcomes = await runSessions(fleet.url, SESSIONS, CALLS, 'call');
      const { lines, summary } = failuresOf(outcomes);
      expect(lines, summary).toEqual([]);

      await expectRequestsSpreadEvenly(fleet.balancer, SESSIONS, CALLS);
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
      // The worker answers each call at the webhook of the instance that is left.
      await expectSessionsToOutliveAnInstance(fleet);
      expect(logged(fleet.worker, 'session opened')).toBe(SESSIONS);
    },
    HEAVY_TEST_MS,
  );

  it('answers 404 through the balancer for a session no instance opened: at once when malformed, after one round trip otherwise', async () => {
    const fleet = await startFleet();
    // Round robin and nothing else running: one probe per instance, so each of them answers one.
    for (const sessionId of [randomUUID(), randomBytes(16).toString('hex')]) {
      for (const _instance of range(fleet.gateways.length)) {
        const response = await postUnderSession(fleet.url, sessionId);
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
      const response = await postUnderSession(fleet.url, forged);
      expect(response.status, response.body).toBe(404);
    }
    // Nothing reached the worker: it logs every refusal, and there was none.
    expect(
      fleet.worker.lines.stdout.slice(refusedBefore).filter((line) => Number(parseLog(line)?.level) >= 40),
    ).toEqual([]);
    for (const origin of fleet.origins) expect(await adoptions(origin, 'unknown')).toBe(0);
  });
});
