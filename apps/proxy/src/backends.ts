import type { Backend, Logger } from '@asyncmcp/core';
import { snsSqsBackend } from '@asyncmcp/sns-sqs';
import { sqsBackend } from '@asyncmcp/sqs';
import { hybridBackend, type WebhookRouteBackend, webhookBackend } from '@asyncmcp/webhook';
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  DEFAULT_WEBHOOK_PATH,
  type GatewayConfig,
  GatewayConfigError,
  missingRequestQueueUrlError,
  missingRequestTopicArnError,
  missingServerUrlError,
} from './config.js';
import { ListeningRouteBackend } from './route-backend.js';
import {
  AVAILABLE_BACKENDS,
  type AvailableBackendName,
  type BackendName,
  isAvailableBackend,
} from './settings.js';

/** A backend with the clients made for it; `close()` closes the backend and releases the clients. */
export interface BackendHandle {
  readonly backend: Backend;
  /**
   * webhook, hybrid: the base URL of each session's webhook (`<base><webhookPath>/<session>`); undefined
   * until `listening()` when it is the gateway's own address.
   */
  readonly webhookBaseUrl?: string | undefined;
  /**
   * Tells a backend that receives webhooks where the gateway's HTTP server listens (`http://host:port`),
   * once it does; a backend whose base URL was left to the listening address is completed here.
   */
  listening?(origin: string): void;
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
  /** webhook, hybrid: the fetch of the requests to the server; tests replace it. @default globalThis.fetch */
  fetch?: FetchLike;
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
> &
  Partial<Pick<GatewayConfig, 'serverUrl' | 'webhookBaseUrl' | 'webhookPath' | 'signingSecret'>>;

/**
 * Builds the backend the configuration names: `sqs` on an SQS client, `sns-sqs` on an SNS and an SQS
 * client for the same region and endpoint, `webhook` and `hybrid` on HTTP (their webhook route is
 * mounted by the gateway; see `webhookRouteBackend`).
 */
export async function createBackend(
  config: BackendSettings,
  options: CreateBackendOptions,
): Promise<BackendHandle> {
  const { backend: name } = config;
  assertBackendAvailable(name);
  if (name === 'webhook' || name === 'hybrid') return webhookRouteBackend(name, config, options);
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
        signingSecret: config.signingSecret,
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
      signingSecret: config.signingSecret,
      logger: options.logger,
    }),
  );
}

/**
 * The webhook or hybrid backend: with a webhook base URL, the library backend itself; without one, a
 * backend completed by `listening(origin)` with the gateway's own address (the configuration allows
 * that only on loopback, where the server on the same machine can reach it).
 */
function webhookRouteBackend(
  name: 'webhook' | 'hybrid',
  config: BackendSettings,
  options: CreateBackendOptions,
): BackendHandle {
  const serverUrl = config.serverUrl;
  if (serverUrl === undefined) throw missingServerUrlError(name);
  const webhookPath = config.webhookPath ?? DEFAULT_WEBHOOK_PATH;
  const build = (webhookBaseUrl: string): WebhookRouteBackend<typeof name> => {
    const common = {
      serverUrl,
      webhookBaseUrl,
      webhookPath,
      signingSecret: config.signingSecret,
      fetch: options.fetch,
      logger: options.logger,
    };
    return name === 'webhook' ? webhookBackend(common) : hybridBackend(common);
  };
  if (config.webhookBaseUrl !== undefined) {
    const backend = build(config.webhookBaseUrl);
    return { backend, webhookBaseUrl: config.webhookBaseUrl, listening() {}, close: () => backend.close() };
  }
  const backend = new ListeningRouteBackend(name, webhookPath, build);
  return {
    backend,
    get webhookBaseUrl() {
      return backend.webhookBaseUrl;
    },
    listening: (origin) => backend.bind(origin),
    close: () => backend.close(),
  };
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
      'no AWS region is configured and the queue URL or topic ARN names none: pass --region, set AWS_REGION, or add region to the config file',
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
