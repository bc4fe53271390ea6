import type { Backend, Logger } from '@asyncmcp/core';
import { snsSqsBackend } from '@asyncmcp/sns-sqs';
import { AWS_CLIENT_DEFAULTS, sqsBackend } from '@asyncmcp/sqs';
import { hybridBackend, webhookBackend } from '@asyncmcp/webhook';
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { GatewayConfigError } from './config/errors.js';
import type {
  AwsClientConfig,
  BackendName,
  GatewayBackendConfig,
  WebhookGatewayBackend,
} from './config/index.js';

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
  /** webhook, hybrid: the fetch of the requests to the server; tests replace it. @default globalThis.fetch */
  fetch?: FetchLike;
}

/**
 * What a backend is made from: its part of the configuration, and the secret it signs with. The webhook
 * path may be left to the webhook package's default.
 */
export type BackendSettings = (
  | Exclude<GatewayBackendConfig, WebhookGatewayBackend>
  | (Omit<WebhookGatewayBackend, 'webhookPath'> & { webhookPath?: string | undefined })
) & { signingSecret?: string | undefined };

type BackendFactory<B extends BackendName> = (
  config: BackendSettings & { backend: B },
  options: CreateBackendOptions,
) => Promise<BackendHandle>;

/** Each backend's factory: the one place the gateway's backends branch on the backend. */
const BACKEND_FACTORIES: { [B in BackendName]: BackendFactory<B> } = {
  sqs: async (config, options) => {
    const sqsClient = await createSqsClient(config, options.createSqsClient);
    return handleFor({ destroy: () => sqsClient.destroy() }, () =>
      sqsBackend({
        sqsClient,
        requestQueueUrl: config.requestQueueUrl,
        responseQueueUrl: config.responseQueueUrl,
        responseQueueLeaseSeconds: config.responseQueueLeaseSeconds,
        signingSecret: config.signingSecret,
        logger: options.logger,
      }),
    );
  },
  'sns-sqs': async (config, options) => {
    const clients = await createSnsSqsClients(config, options);
    return handleFor(clients, () =>
      snsSqsBackend({
        snsClient: clients.snsClient,
        sqsClient: clients.sqsClient,
        requestTopicArn: config.requestTopicArn,
        responseTopicArn: config.responseTopicArn,
        responseQueueUrl: config.responseQueueUrl,
        responseQueueLeaseSeconds: config.responseQueueLeaseSeconds,
        signingSecret: config.signingSecret,
        logger: options.logger,
      }),
    );
  },
  webhook: async (config, options) => webhookRouteBackend('webhook', config, options),
  hybrid: async (config, options) => webhookRouteBackend('hybrid', config, options),
};

/**
 * Builds the backend the configuration names: `sqs` on an SQS client, `sns-sqs` on an SNS and an SQS
 * client for the same region and endpoint, `webhook` and `hybrid` on HTTP (their webhook route is
 * mounted by the gateway; see `webhookRouteBackend`).
 */
export function createBackend(
  config: BackendSettings,
  options: CreateBackendOptions,
): Promise<BackendHandle> {
  const factory = BACKEND_FACTORIES[config.backend] as BackendFactory<BackendName>;
  return factory(config, options);
}

/**
 * The webhook or hybrid backend. Without a webhook base URL it takes the gateway's own address once the
 * gateway listens (the configuration allows that only on loopback, where the server on the same machine
 * can reach it).
 */
function webhookRouteBackend(
  name: 'webhook' | 'hybrid',
  config: BackendSettings & { backend: 'webhook' | 'hybrid' },
  options: CreateBackendOptions,
): BackendHandle {
  const common = {
    serverUrl: config.serverUrl,
    webhookBaseUrl: config.webhookBaseUrl,
    webhookPath: config.webhookPath,
    signingSecret: config.signingSecret,
    fetch: options.fetch,
    logger: options.logger,
  };
  const backend = name === 'webhook' ? webhookBackend(common) : hybridBackend(common);
  return { backend, close: () => backend.close() };
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
  config: Partial<AwsClientConfig>,
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

/** The client settings both AWS clients are made with: asyncmcp's client defaults, the region and endpoint when configured. */
function clientSettings(config: Partial<AwsClientConfig>): {
  region?: string;
  endpoint?: string;
  cacheMiddleware: boolean;
} {
  const settings: { region?: string; endpoint?: string; cacheMiddleware: boolean } = {
    ...AWS_CLIENT_DEFAULTS,
  };
  if (config.region !== undefined) settings.region = config.region;
  if (config.endpointUrl !== undefined) settings.endpoint = config.endpointUrl;
  return settings;
}

/**
 * An SQS client for the configured region and endpoint, refusing with a configuration error when no
 * region can be found: the SDK would only notice on the first call, as a failure far from its cause.
 */
export async function createSqsClient(
  config: Partial<AwsClientConfig>,
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
  config: Partial<AwsClientConfig>,
  create: (config: SNSClientConfig) => SNSClient = (settings) => new SNSClient(settings),
): SNSClient {
  return create(clientSettings(config));
}
