import type { Backend } from '@asyncmcp/core';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BridgeObserver } from './session-bridge.js';

/**
 * The request methods of the MCP specification (client to server). Only these become a `method` label;
 * any other method is counted as `other`, since a label value a client chooses would let it grow the
 * registry (and every scrape) without bound.
 */
export const MCP_REQUEST_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'completion/complete',
  'logging/setLevel',
  'prompts/get',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'tools/call',
  'tools/list',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
]);

/** The `method` label of a request: its method when the MCP specification names it, else `other`. */
export function methodLabel(method: string): string {
  return MCP_REQUEST_METHODS.has(method) ? method : 'other';
}

/**
 * The gateway's Prometheus metrics, on a registry of its own (never the global one), so two gateways in
 * one process do not collide.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  readonly sessions: Gauge;
  readonly sessionsOpened: Counter;
  readonly sessionsClosed: Counter<'reason'>;
  readonly sessionsRejected: Counter<'reason'>;
  readonly sessionsAdopted: Counter<'outcome'>;
  readonly requests: Counter<'method' | 'outcome'>;
  readonly requestDuration: Histogram<'method'>;
  readonly backendErrors: Counter;
  readonly dropped: Counter<'reason'>;

  constructor(backend: Backend, { defaultMetrics = true }: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    // Node's own metrics keep their standard names (process_cpu_seconds_total …), which dashboards expect.
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
    this.sessions = new Gauge({
      name: 'asyncmcp_gateway_sessions',
      help: 'Live gateway sessions',
      registers,
    });
    this.sessionsOpened = new Counter({
      name: 'asyncmcp_gateway_sessions_opened_total',
      help: 'Gateway sessions opened',
      registers,
    });
    this.sessionsClosed = new Counter({
      name: 'asyncmcp_gateway_sessions_closed_total',
      help: 'Gateway sessions closed, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.sessionsRejected = new Counter({
      name: 'asyncmcp_gateway_sessions_rejected_total',
      help: 'Session starts refused (limit: session limit, backend: backend unavailable, refused: initialize refused by the transport)',
      labelNames: ['reason'],
      registers,
    });
    this.sessionsAdopted = new Counter({
      name: 'asyncmcp_gateway_sessions_adopted_total',
      help: 'Sessions another gateway instance opened that a request here asked for, by outcome (adopted: the servers confirmed it; unknown: they did not hold it, answered 404; unconfirmed: no answer in time, 503)',
      labelNames: ['outcome'],
      registers,
    });
    this.requests = new Counter({
      name: 'asyncmcp_gateway_requests_total',
      help: 'Client requests forwarded to the backend, by method (those of the MCP specification, else other) and outcome',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'asyncmcp_gateway_request_duration_seconds',
      help: 'Time from forwarding a request to its answer',
      labelNames: ['method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.backendErrors = new Counter({
      name: 'asyncmcp_gateway_backend_errors_total',
      help: 'Errors from the backend (send failures, transport errors)',
      registers,
    });
    this.dropped = new Counter({
      name: 'asyncmcp_gateway_dropped_messages_total',
      help: 'Messages from the backend that matched no waiting request or live session',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'asyncmcp_gateway_backend_stat',
      help: "The backend's own counters (e.g. routed, unroutable), by name",
      labelNames: ['backend', 'stat'],
      registers,
      collect() {
        this.reset();
        for (const [stat, value] of Object.entries(backend.stats ?? {}))
          this.set({ backend: backend.name, stat }, value);
      },
    });
  }

  #observer: BridgeObserver | undefined;

  /** The bridge's callbacks, feeding these metrics: one object, shared by every session's bridge. */
  observer(): BridgeObserver {
    this.#observer ??= {
      onRequestEnd: (method, outcome, seconds) => {
        const label = methodLabel(method);
        this.requests.inc({ method: label, outcome });
        if (outcome === 'answered') this.requestDuration.observe({ method: label }, seconds);
      },
      onBackendError: () => this.backendErrors.inc(),
      onDropped: (reason) => this.dropped.inc({ reason }),
    };
    return this.#observer;
  }
}
