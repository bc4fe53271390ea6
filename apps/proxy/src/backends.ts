import type { Backend, Logger } from '@asyncmcp/core';
import { snsSqsBackend } from '@asyncmcp/sns-sqs';
import { sqsBackend } from '@asyncmcp/sqs';
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import {
  type GatewayConfig,
  GatewayConfigError,
  missingRequestQueueUrlError,
  missingRequestTopicArnError,
} from './config.js';
import {
  AVAILABLE_BACKENDS,
  type AvailableBackendName,
  type BackendName,
  isAvailableBackend,
} from './settings.js';

/** A backend with the clients made for it; `close()` closes the backend and releases the clients. */
export interface BackendHandle {
  readonly backend: Backend;
  close(): Promise<void>;
}

/** How the AWS clients are made; tests replace them. */
export interface AwsClientFactories {
  /** Makes the SQS client. @default `new SQSClient(config)`, which reads the AWS SDK's own env and files */
  createSqsClient?: (config: SQSClientConfig) => SQSClient;
  /** Makes the SNS client (sns-sqs). @default `new SNSClient(config)`, which reads the AWS SDK's own env and files */
  createSnsClient?: (config: SNSClientConfig) => SNSClient;
}

export interface CreateBackendOptions extends AwsClientFactories {
  logger: Logger;
}

/** Refuses, with a configuration error, a backend name this version accepts but cannot run. */
export function assertBackendAvailable(name: BackendName): asserts name is AvailableBackendName {
  if (!isAvailableBackend(name)) {
    throw new GatewayConfigError(
      'backend-unavailable',
      `the ${name} backend is not available in this version (available: ${AVAILABLE_BACKENDS.join(', ')})`,
    );
  }
}

export type BackendSettings = Pick<
  GatewayConfig,
  | 'backend'
  | 'requestQueueUrl'
  | 'responseQueueUrl'
  | 'requestTopicArn'
  | 'responseTopicArn'
  | 'region'
  | 'endpointUrl'
>;

/**
 * Builds the backend the configuration names: `sqs` on an SQS client, `sns-sqs` on an SNS and an SQS
 * client for the same region and endpoint. The other accepted names fail with a configuration error
 * that says they are not available in this version.
 */
export async function createBackend(
  config: BackendSettings,
  options: CreateBackendOptions,
): Promise<BackendHandle> {
  const { backend: name } = config;
  assertBackendAvailable(name);
  if (name === 'sns-sqs') {
    if (config.requestTopicArn === undefined) throw missingRequestTopicArnError();
    const requestTopicArn = config.requestTopicArn;
    const clients = await createSnsSqsClients(config, options);
    return handleFor(clients, () =>
      snsSqsBackend({
        snsClient: clients.snsClient,
        sqsClient: clients.sqsClient,
        requestTopicArn,
        responseTopicArn: config.responseTopicArn,
        responseQueueUrl: config.responseQueueUrl,
        logger: options.logger,
      }),
    );
  }
  if (config.requestQueueUrl === undefined) throw missingRequestQueueUrlError(name);
  const requestQueueUrl = config.requestQueueUrl;
  const sqsClient = await createSqsClient(config, options.createSqsClient);
  return handleFor({ destroy: () => sqsClient.destroy() }, () =>
    sqsBackend({
      sqsClient,
      requestQueueUrl,
      responseQueueUrl: config.responseQueueUrl,
      logger: options.logger,
    }),
  );
}

/** The backend `build` makes, owning `clients`: they are released if it cannot be made, or once it is closed. */
function handleFor(clients: { destroy(): void }, build: () => Backend): BackendHandle {
  let backend: Backend;
  try {
    backend = build();
  } catch (error) {
    clients.destroy();
    throw error;
  }
  return {
    backend,
    async close() {
      try {
        await backend.close();
      } finally {
        clients.destroy();
      }
    },
  };
}

/** The two clients of the sns-sqs backend (or of serve over SNS+SQS), released together. */
export interface SnsSqsClients {
  readonly sqsClient: SQSClient;
  readonly snsClient: SNSClient;
  destroy(): void;
}

/**
 * An SQS and an SNS client with the same region and endpoint. The region is checked once, on the SQS
 * client, before the SNS client is made: both find it the same way.
 */
export async function createSnsSqsClients(
  config: { region?: string | undefined; endpointUrl?: string | undefined },
  factories: AwsClientFactories,
): Promise<SnsSqsClients> {
  const sqsClient = await createSqsClient(config, factories.createSqsClient);
  let snsClient: SNSClient;
  try {
    snsClient = createSnsClient(config, factories.createSnsClient);
  } catch (error) {
    sqsClient.destroy();
    throw error;
  }
  return {
    sqsClient,
    snsClient,
    destroy() {
      sqsClient.destroy();
      snsClient.destroy();
    },
  };
}

/** The client settings both AWS clients are made with: the region and endpoint, when configured. */
function clientSettings(config: { region?: string | undefined; endpointUrl?: string | undefined }): {
  region?: string;
  endpoint?: string;
} {
  const settings: { region?: string; endpoint?: string } = {};
  if (config.region !== undefined) settings.region = config.region;
  if (config.endpointUrl !== undefined) settings.endpoint = config.endpointUrl;
  return settings;
}

/**
 * An SQS client for the configured region and endpoint, refusing with a configuration error when no
 * region can be found: the SDK would only notice on the first call, as a failure far from its cause.
 */
export async function createSqsClient(
  config: { region?: string | undefined; endpointUrl?: string | undefined },
  create: (config: SQSClientConfig) => SQSClient = (settings) => new SQSClient(settings),
): Promise<SQSClient> {
  const sqsClient = create(clientSettings(config));
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

/** An SNS client for the configured region and endpoint (the region is checked on the SQS client). */
export function createSnsClient(
  config: { region?: string | undefined; endpointUrl?: string | undefined },
  create: (config: SNSClientConfig) => SNSClient = (settings) => new SNSClient(settings),
): SNSClient {
  return create(clientSettings(config));
}
