import { Agent } from 'node:http';
import { SqsClientTransport } from '@asyncmcp/sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { bareEcho } from './bare-http.js';
import { startHttpEcho } from './floor-paths.js';
import { connect, echo } from './mcp-calls.js';
import { log, queue, SEQUENTIAL, WARMUP } from './run-context.js';
import { type LatencySummary, round, summarize } from './stats.js';

/**
 * The three latencies `gatewayAddedOverHttpFloorP50Ms` is made of — `direct-sqs`, `gateway-sqs` and the
 * bare HTTP hop — measured in turn, in blocks of calls (`timeInTurn`), instead of one path after another. Each path alone is
 * measured minutes apart from the others, and this machine's speed drifts over minutes (a fixed hashing
 * loop measured 252 ms, then 348 ms a few minutes later): a difference of two 2–6 ms latencies taken in
 * different minutes moved by more than a millisecond with it. Taken in turn, the three see the same
 * machine, and the difference is the gateway's.
 */
export interface InterleavedLatency {
  /** Timed calls of each. */
  calls: number;
  latency: {
    'direct-sqs': LatencySummary;
    'gateway-sqs': LatencySummary;
    /** The same gateway and server, each call a bare HTTP exchange instead of the SDK client's. */
    'gateway-sqs-bare-client': LatencySummary;
    'http-floor': LatencySummary;
  };
  /** (gateway-sqs p50 − direct-sqs p50) − http-floor p50, from these rounds. */
  gatewayAddedOverHttpFloorP50Ms: number;
  /**
   * The same with the bare client's p50 in place of gateway-sqs: what the gateway adds without the SDK
   * client's transport and protocol layer, which gateway-sqs − gateway-sqs-bare-client measures. The
   * direct path keeps its SDK client's protocol layer, so this counts that layer against the gateway.
   */
  gatewayAddedOverHttpFloorP50MsBareClient: number;
}

/** Calls timed in each block, and calls before them not timed (the switch from another path wakes its processes). */
const BLOCK = { timed: 25, settling: 5 };

/**
 * Blocks of calls of each operation in turn, in an order that rotates each round: each block first makes
 * `BLOCK.settling` calls untimed, then times `BLOCK.timed` calls one after another, as a path alone would.
 * So every operation's samples spread over the same minutes, each taken with its processes as busy as
 * when its path is measured alone. Round up to `calls` timed calls each.
 */
async function timeInTurn(
  calls: number,
  operations: ReadonlyArray<readonly [string, (index: number) => Promise<unknown>]>,
): Promise<Map<string, number[]>> {
  const samples = new Map(operations.map(([name]) => [name, [] as number[]]));
  const rounds = Math.ceil(calls / BLOCK.timed);
  let index = 0;
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < operations.length; turn++) {
      const [name, operation] = operations[(round + turn) % operations.length] as (typeof operations)[number];
      const timed = samples.get(name) as number[];
      for (let call = 0; call < BLOCK.settling; call++) await operation(index++);
      for (let call = 0; call < BLOCK.timed; call++) {
        const started = performance.now();
        await operation(index++);
        timed.push(performance.now() - started);
      }
    }
  }
  return samples;
}

export interface InterleavedLatencyOptions {
  /** The gateway of `gateway-sqs`, still running, warmed up by its path. */
  gatewayUrl: string;
  /** The direct client's SQS client, and the queue the server of both paths reads. */
  sqsClient: SQSClient;
  admin: SQSClient;
  requestQueueUrl: string;
}

/** A session of each path and the bare hop, warmed up in turn, then SEQUENTIAL calls of each timed in turn. */
export async function interleavedLatency(options: InterleavedLatencyOptions): Promise<InterleavedLatency> {
  log('• direct-sqs, gateway-sqs (SDK client and bare client) and http-floor in turn');
  const hop = await startHttpEcho();
  const direct = await connect(
    new SqsClientTransport({
      sqsClient: options.sqsClient,
      requestQueueUrl: options.requestQueueUrl,
      responseQueueUrl: await queue(options.admin, 'turn-resp'),
    }),
  );
  const viaGateway = await connect(new StreamableHTTPClientTransport(new URL(options.gatewayUrl)));
  // A session of its own, opened by an SDK client, then called with bare HTTP exchanges.
  const bareTransport = new StreamableHTTPClientTransport(new URL(options.gatewayUrl));
  const bareSession = await connect(bareTransport);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const bare = bareEcho({
    agent,
    url: options.gatewayUrl,
    sessionId: bareTransport.sessionId as string,
    protocolVersion: bareTransport.protocolVersion ?? LATEST_PROTOCOL_VERSION,
  });
  const operations = [
    ['direct-sqs', (index: number) => echo(direct, index)],
    ['gateway-sqs', (index: number) => echo(viaGateway, index)],
    ['gateway-sqs-bare-client', bare],
    ['http-floor', () => hop.roundTrip()],
  ] as const;
  try {
    await timeInTurn(WARMUP, operations);
    const samples = await timeInTurn(SEQUENTIAL, operations);
    const latency = {
      'direct-sqs': summarize(samples.get('direct-sqs') ?? []),
      'gateway-sqs': summarize(samples.get('gateway-sqs') ?? []),
      'gateway-sqs-bare-client': summarize(samples.get('gateway-sqs-bare-client') ?? []),
      'http-floor': summarize(samples.get('http-floor') ?? []),
    };
    const addedBy = (path: 'gateway-sqs' | 'gateway-sqs-bare-client') =>
      round(latency[path].p50 - latency['direct-sqs'].p50 - latency['http-floor'].p50);
    return {
      calls: SEQUENTIAL,
      latency,
      gatewayAddedOverHttpFloorP50Ms: addedBy('gateway-sqs'),
      gatewayAddedOverHttpFloorP50MsBareClient: addedBy('gateway-sqs-bare-client'),
    };
  } finally {
    agent.destroy();
    await Promise.allSettled([direct.close(), viaGateway.close(), bareSession.close(), hop.stop()]);
  }
}
