import type { InterleavedLatency } from './interleaved-latency.js';
import type { PathResult } from './measure-path.js';
import { round } from './stats.js';

/**
 * What bounds the targets a run misses, from the same run: where the gateway's CPU and latency go
 * (the SDK's transport alone, the gateway with no channel, the SQS side), and on a machine whose cores
 * every process of a path shares, the best throughput ratio a gateway could reach.
 */
export interface BoundPaths {
  hop: PathResult;
  frontFloor: PathResult;
  gatewayInProcess: PathResult;
  direct: PathResult;
  viaGateway: PathResult;
  directSns: PathResult;
  viaSnsGateway: PathResult;
  directWebhook: PathResult;
  viaWebhookGateway: PathResult;
}

const concurrentCpu = (path: PathResult, role: string) => path.cpuMsPerCall?.concurrent[role] ?? Number.NaN;

/** CPU milliseconds per call of every process of a path together, with 32 sessions calling. */
function totalCpu(path: PathResult): number {
  return Object.values(path.cpuMsPerCall?.concurrent ?? {}).reduce((sum, ms) => sum + ms, 0);
}

/** The gateway process's SQS and SNS requests per call, with 32 sessions calling. */
function gatewayRequests(path: PathResult): number {
  const byCommand = path.apiCallsPerCall?.concurrentByProcess.gateway ?? {};
  return Object.values(byCommand).reduce((sum, count) => sum + count, 0);
}

/**
 * With every process of both paths busy on the same cores, calls per second follow CPU per call:
 * direct's CPU over the gateway path's is the throughput ratio the cores allow (`cpuRatio`); with the
 * gateway's own share cut to the SDK transport's floor, the best any gateway on that transport could
 * reach (`best`); with no gateway CPU at all, what the path's other processes (the SDK client among
 * them) leave for any gateway (`withGatewayFree`).
 */
function throughputBound(direct: PathResult, viaGateway: PathResult, floorCpu: number) {
  const directCpu = totalCpu(direct);
  const gatewayPathCpu = totalCpu(viaGateway);
  const withFloorGateway = gatewayPathCpu - concurrentCpu(viaGateway, 'gateway') + floorCpu;
  return {
    directCpuMsPerCall: round(directCpu),
    gatewayPathCpuMsPerCall: round(gatewayPathCpu),
    cpuRatio: round(directCpu / gatewayPathCpu),
    best: round(directCpu / withFloorGateway),
    withGatewayFree: round(directCpu / (gatewayPathCpu - concurrentCpu(viaGateway, 'gateway'))),
  };
}

export function boundsOf(paths: BoundPaths, inTurn: InterleavedLatency) {
  const { hop, frontFloor, gatewayInProcess, viaGateway } = paths;
  const floorCpu = concurrentCpu(frontFloor, 'server');
  const inProcessCpu = concurrentCpu(gatewayInProcess, 'gateway');
  const sqsSideCpu = concurrentCpu(viaGateway, 'gateway') - inProcessCpu;
  const requests = gatewayRequests(viaGateway);
  return {
    // gatewayCpuMsPerCall: the SDK's transport alone, then the gateway with no channel, then the SQS side.
    frontFloorCpuMsPerCall: floorCpu,
    gatewayInProcessCpuMsPerCall: inProcessCpu,
    gatewaySqsSideCpuMsPerCall: round(sqsSideCpu),
    gatewaySqsRequestsPerCall: round(requests),
    gatewayCpuMsPerSqsRequest: round(sqsSideCpu / requests),
    // gatewayAddedOverHttpFloorP50Ms: what the SDK's transport adds over a bare hop, and the gateway with no channel.
    frontFloorAddedOverHttpFloorP50Ms: round(frontFloor.latency.p50 - hop.latency.p50),
    gatewayInProcessAddedOverHttpFloorP50Ms: round(gatewayInProcess.latency.p50 - hop.latency.p50),
    // Timed in turn: the SDK client's share of a gateway-sqs call (its transport and protocol layer, over
    // a bare HTTP exchange with the same gateway), and the gateway's figure without it.
    sdkClientP50Ms: round(inTurn.latency['gateway-sqs'].p50 - inTurn.latency['gateway-sqs-bare-client'].p50),
    gatewayAddedOverHttpFloorP50MsBareClient: inTurn.gatewayAddedOverHttpFloorP50MsBareClient,
    // gatewayOverDirectThroughput
    throughput: {
      sqs: throughputBound(paths.direct, viaGateway, floorCpu),
      snsSqs: throughputBound(paths.directSns, paths.viaSnsGateway, floorCpu),
      webhook: throughputBound(paths.directWebhook, paths.viaWebhookGateway, floorCpu),
    },
  };
}

export type Bounds = ReturnType<typeof boundsOf>;

export function printBounds(bounds: Bounds): void {
  const { throughput } = bounds;
  console.log('what bounds the targets (this run)');
  console.log(
    `  gateway CPU per call: SDK transport alone ${bounds.frontFloorCpuMsPerCall} ms, gateway with no channel ${bounds.gatewayInProcessCpuMsPerCall} ms, SQS side ${bounds.gatewaySqsSideCpuMsPerCall} ms (${bounds.gatewaySqsRequestsPerCall} requests per call, ${bounds.gatewayCpuMsPerSqsRequest} ms each)`,
  );
  console.log(
    `  p50 over http-floor: SDK transport alone ${bounds.frontFloorAddedOverHttpFloorP50Ms} ms, gateway with no channel ${bounds.gatewayInProcessAddedOverHttpFloorP50Ms} ms; in turn, the SDK client's part of a gateway-sqs call ${bounds.sdkClientP50Ms} ms, the gateway's figure with a bare HTTP client ${bounds.gatewayAddedOverHttpFloorP50MsBareClient} ms`,
  );
  for (const [name, pair] of Object.entries(throughput)) {
    console.log(
      `  throughput ${name}: CPU per call direct ${pair.directCpuMsPerCall} ms, via gateway ${pair.gatewayPathCpuMsPerCall} ms: ratio the cores allow ${pair.cpuRatio}, best with a gateway at the SDK transport's floor ${pair.best}, with a gateway costing nothing ${pair.withGatewayFree}`,
    );
  }
}
