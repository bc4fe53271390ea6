import { findNginx, type LoadBalancer, startLoadBalancer, textOf } from '@asyncmcp-internal/test-support';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { beforeAll, expect } from 'vitest';
import type { CliProcess } from './cli-process.js';
import { within } from './cli-process.js';
import { echo, useGatewayClients } from './e2e-suite.js';

// What the fleet tests share, whatever the backend: gateway instances behind a round-robin load balancer,
// many client sessions through it, and an account of which sessions failed and at which step.

/** Two gateways, a worker, a load balancer and sixteen sessions: each wait inside has its own bound. */
export const HEAVY_TEST_MS = 150_000;
/** The bound on all the sessions' calls together. */
export const SESSIONS_MS = 90_000;
export const SESSIONS = 16;
export const CALLS = 5;
/** `ASYNCMCP_TEST_LOAD_BALANCER=node` runs the Node proxy even where nginx is installed. */
const PREFER = process.env.ASYNCMCP_TEST_LOAD_BALANCER === 'node' ? 'node' : 'nginx';

/** What became of one client's session: `failure` says at which step and why, when it failed. */
export interface Outcome {
  index: number;
  client?: Client;
  failure?: string;
}

/** Gateway instances behind a load balancer. */
export interface BalancedGateways {
  gateways: CliProcess[];
  /** Each gateway's own origin, past the balancer. */
  origins: string[];
  balancer: LoadBalancer;
  /** The MCP endpoint through the load balancer: what every client of the fleet uses. */
  url: string;
}

/**
 * Sessions through a fleet for the tests of the calling `describe`: its clients, and the balancers it
 * started, are stopped after each test, clients first while the balancer still carries their closing
 * requests; then the CLI processes are killed.
 */
export function useFleetSessions(clientName: string) {
  const balancers: LoadBalancer[] = [];
  const { connectOver } = useGatewayClients(clientName, () =>
    Promise.allSettled(balancers.splice(0).map((balancer) => balancer.stop())),
  );

  beforeAll(() => {
    if (PREFER === 'nginx' && findNginx() === undefined) {
      console.warn('nginx not installed: the fleet test runs through the Node round-robin proxy');
    }
  });

  /** A plain round-robin balancer (the documented nginx config, or a Node proxy like it) in front of `gateways`. */
  async function balance(gateways: CliProcess[]): Promise<BalancedGateways> {
    const urls = (await Promise.all(gateways.map((gateway) => gateway.url()))).map((url) => new URL(url));
    const origins = urls.map((url) => url.origin);
    const balancer = await startLoadBalancer({ upstreams: origins, prefer: PREFER });
    balancers.push(balancer);
    if (PREFER === 'nginx' && findNginx() !== undefined) expect(balancer.kind).toBe('nginx');
    return { gateways, origins, balancer, url: new URL((urls[0] as URL).pathname, balancer.url).href };
  }

  /** Connects a client through the balancer, then runs `calls` echo calls on its session, one after another. */
  async function runSession(url: string, index: number, calls: number, label: string): Promise<Outcome> {
    let client: Client;
    try {
      // Bounded by the sessions' own bound: sixteen of them open at once on a loaded machine.
      client = await connectOver(new StreamableHTTPClientTransport(new URL(url)), 'connect', SESSIONS_MS);
    } catch (error) {
      return { index, failure: `connect: ${String(error)}` };
    }
    for (let call = 0; call < calls; call++) {
      const outcome = await expectEcho(client, `${label} ${index}.${call}`).catch((error) => String(error));
      if (outcome !== undefined) return { index, client, failure: `call ${call}: ${outcome}` };
    }
    return { index, client };
  }

  /** `count` sessions of `calls` calls each, run side by side (bounded). */
  function runSessions(url: string, count: number, calls: number, label: string): Promise<Outcome[]> {
    return within(
      Promise.all(range(count).map((index) => runSession(url, index, calls, label))),
      `${count} sessions of ${calls} calls`,
      SESSIONS_MS,
    );
  }

  /**
   * Opens SESSIONS sessions through the fleet, SIGKILLs its first gateway, then expects one more call on
   * every session to be answered: the balancer takes a refused connection to the next instance, so no
   * client sees the dead one.
   */
  async function expectSessionsToOutliveAnInstance(fleet: BalancedGateways): Promise<void> {
    const before = await runSessions(fleet.url, SESSIONS, 1, 'before');
    const opened = failuresOf(before);
    expect(opened.lines, `before the kill: ${opened.summary}`).toEqual([]);

    await killFirstGateway(fleet);

    const after = await callEachAfterTheKill(before);
    const { lines, summary } = failuresOf(after);
    expect(lines, `after the kill: ${summary}`).toEqual([]);
  }

  return { balance, runSession, runSessions, expectSessionsToOutliveAnInstance };
}

/**
 * Round robin, with no instance failing: the balancer passed at least the requests of `sessions` sessions
 * of `calls` calls (each with its initialize and initialized), and each instance answered about half.
 */
export async function expectRequestsSpreadEvenly(
  balancer: LoadBalancer,
  sessions: number,
  calls: number,
): Promise<void> {
  const totalOf = (answered: Record<string, number>) =>
    Object.values(answered).reduce((sum, count) => sum + count, 0);
  // nginx logs a request once it has passed on the end of its response, which may be a moment after
  // the client read the answer: the last lines are waited for, not assumed.
  await expect
    .poll(async () => totalOf(await balancer.answeredBy()), { timeout: 10_000 })
    .toBeGreaterThanOrEqual(sessions * (calls + 2));
  const answered = await balancer.answeredBy();
  const total = totalOf(answered);
  for (const count of Object.values(answered))
    expect(count, JSON.stringify(answered)).toBeGreaterThan(total / 4);
}

/** Undefined when the session echoes `text`, else what it said instead. */
export async function expectEcho(client: Client, text: string): Promise<string | undefined> {
  const answer = textOf(await echo(client, text));
  return answer === `echo: ${text}` ? undefined : `answered ${JSON.stringify(answer)}`;
}

/** The failures among `outcomes`, one line each, and a summary naming how many failed at which step. */
export function failuresOf(outcomes: Outcome[]): { lines: string[]; summary: string } {
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

/** SIGKILLs the first gateway of the fleet, and waits (bounded) until it is gone. */
export async function killFirstGateway(fleet: BalancedGateways): Promise<void> {
  const victim = fleet.gateways[0] as CliProcess;
  victim.child.kill('SIGKILL');
  await within(victim.exited, 'the instance dying');
}

/**
 * One more echo call on each session of `before`, side by side (bounded), once an instance is gone; the
 * outcomes name a failure as the call after the kill.
 */
function callEachAfterTheKill(before: Outcome[]): Promise<Outcome[]> {
  return within(
    Promise.all(
      before.map(async ({ index, client }): Promise<Outcome> => {
        const failure = await expectEcho(client as Client, `after ${index}`).catch((error) => String(error));
        return { index, failure: failure === undefined ? undefined : `call after the kill: ${failure}` };
      }),
    ),
    `${before.length} calls after the kill`,
    SESSIONS_MS,
  );
}

export function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}
