import type { SQSClient } from '@aws-sdk/client-sqs';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connect } from './mcp-calls.js';
import { type GatewayProfile, printGatewayProfile, profileGateway } from './profile-gateway.js';
import {
  CALLS_PER_SESSION,
  CONCURRENT_SESSIONS,
  child,
  log,
  PROFILE_DIRECTORY,
  queue,
  WARMUP_PER_SESSION,
} from './run-context.js';

/** The gateway-sqs path's gateway under `node --cpu-prof`, given the concurrent load of the path. */
export async function gatewaySqsProfile(endpoint: string, requestQueueUrl: string): Promise<GatewayProfile> {
  return await profileGateway({
    startGateway: (nodeArgs) =>
      child(
        './child-gateway.ts',
        { BENCH_ENDPOINT: endpoint, BENCH_REQUEST_QUEUE_URL: requestQueueUrl },
        nodeArgs,
      ),
    open: (url) => connect(new StreamableHTTPClientTransport(new URL(url))),
    sessions: CONCURRENT_SESSIONS,
    // A path's warm-up: the profile is for the code as it runs once optimised.
    warmupCallsPerSession: WARMUP_PER_SESSION,
    callsPerSession: CALLS_PER_SESSION,
    directory: PROFILE_DIRECTORY,
    log,
  });
}

/** `--only profile`: the gateway's CPU profile alone, with the SQS server it needs; no figures written. */
export async function profileOnly(endpoint: string, admin: SQSClient): Promise<void> {
  const requestQueueUrl = await queue(admin, 'mcp-req');
  await child('./child-sqs-server.ts', {
    BENCH_ENDPOINT: endpoint,
    BENCH_REQUEST_QUEUE_URL: requestQueueUrl,
  });
  printGatewayProfile(await gatewaySqsProfile(endpoint, requestQueueUrl));
}
