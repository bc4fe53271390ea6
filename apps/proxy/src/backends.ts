import type { Backend, Logger } from '@asyncmcp/core';
import { sqsBackend } from '@asyncmcp/sqs';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { type GatewayConfig, GatewayConfigError } from './config.js';
import { AVAILABLE_BACKENDS, type BackendName } from './settings.js';

/** A backend with the clients made for it; `close()` closes the backend and releases the clients. */
export interface BackendHandle {
  readonly backend: Backend;
  close(): Promise<void>;
}

export interface CreateBackendOptions {
  logger: Logger;
  /** Makes the SQS client. @default `new SQSClient(config)`, which reads the AWS SDK's own env and files */
  createSqsClient?: (config: SQSClientConfig) => SQSClient;
}

/** Refuses, with a configuration error, a backend name this version accepts but cannot run. */
export function assertBackendAvailable(name: BackendName): void {
  if (!AVAILABLE_BACKENDS.includes(name)) {
    throw new GatewayConfigError(
      'backend-unavailable',
      `the ${name} backend is not available in this version (available: ${AVAILABLE_BACKENDS.join(', ')})`,
    );
  }
}

/**
 * Builds the backend the configuration names. Only `sqs` is available in this version; the other
 * accepted names fail with a configuration error that says so.
 */
export async function createBackend(
  config: Pick<GatewayConfig, 'backend' | 'requestQueueUrl' | 'responseQueueUrl' | 'region' | 'endpointUrl'>,
  options: CreateBackendOptions,
): Promise<BackendHandle> {
  assertBackendAvailable(config.backend);
  if (config.requestQueueUrl === undefined) {
    throw new GatewayConfigError(
      'missing-request-queue-url',
      'the sqs backend needs a request queue URL: pass --request-queue-url, set ASYNCMCP_REQUEST_QUEUE_URL, or add requestQueueUrl to the config file',
    );
  }
  const sqsClient = await createSqsClient(config, options.createSqsClient);
  const backend = sqsBackend({
    sqsClient,
    requestQueueUrl: config.requestQueueUrl,
    responseQueueUrl: config.responseQueueUrl,
    logger: options.logger,
  });
  return {
    backend,
    async close() {
      await backend.close();
      sqsClient.destroy();
    },
  };
}

/**
 * An SQS client for the configured region and endpoint, refusing with a configuration error when no
 * region can be found: the SDK would only notice on the first call, as a failure far from its cause.
 */
export async function createSqsClient(
  config: { region?: string | undefined; endpointUrl?: string | undefined },
  create: (config: SQSClientConfig) => SQSClient = (settings) => new SQSClient(settings),
): Promise<SQSClient> {
  const clientConfig: SQSClientConfig = {};
  if (config.region !== undefined) clientConfig.region = config.region;
  if (config.endpointUrl !== undefined) clientConfig.endpoint = config.endpointUrl;
  const sqsClient = create(clientConfig);
  try {
    await sqsClient.config.region();
  } catch (error) {
    sqsClient.destroy();
    throw new GatewayConfigError(
      'missing-region',
      'no AWS region is configured: pass --region, set AWS_REGION, or add region to the config file',
      { cause: error },
    );
  }
  return sqsClient;
}
