import { ConfigurationError } from '@asyncmcp/core';

/** Why a configuration was refused; stable, for tests and callers to match on (never on messages). */
export type GatewayConfigErrorReason =
  | 'missing-request-queue-url'
  | 'missing-request-topic-arn'
  /** webhook, hybrid: no --server-url. */
  | 'missing-server-url'
  /** webhook, hybrid: no --webhook-base-url while --host is not loopback. */
  | 'missing-webhook-base-url'
  /** serve with webhook or hybrid: no --port. */
  | 'missing-port'
  /** serve with hybrid: no --webhook-tool. */
  | 'missing-webhook-tools'
  /** A setting of another backend than the one chosen (e.g. --request-queue-url with sns-sqs). */
  | 'setting-not-for-backend'
  | 'invalid-value'
  | 'unknown-backend'
  | 'missing-region'
  | 'config-file-unreadable'
  | 'config-file-invalid'
  | 'unknown-config-key'
  /** serve: neither a command nor an upstream URL. */
  | 'missing-upstream'
  /** serve: a command and an upstream URL from the same place. */
  | 'conflicting-upstream'
  /** serve: the command cannot be run (not found, not executable). */
  | 'command-not-runnable'
  /** A --host other than loopback without --auth-token or --insecure-no-auth. */
  | 'missing-auth-token';

/**
 * A configuration the gateway cannot run with. The message is one line that says what is wrong and
 * how to fix it; the CLI prints it as it is and exits with code 2.
 */
export class GatewayConfigError extends ConfigurationError {
  readonly reason: GatewayConfigErrorReason;
  constructor(reason: GatewayConfigErrorReason, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'GatewayConfigError';
    this.reason = reason;
  }
}

/** The request queue URL is missing; for serve with sns-sqs, the queue is the one subscribed to the request topic. */
export function missingRequestQueueUrlError(backend: string): GatewayConfigError {
  const what =
    backend === 'sns-sqs'
      ? 'a request queue URL (the SQS queue subscribed to the request topic)'
      : 'a request queue URL';
  return new GatewayConfigError(
    'missing-request-queue-url',
    `the ${backend} backend needs ${what}: pass --request-queue-url, set ASYNCMCP_REQUEST_QUEUE_URL, or add requestQueueUrl to the config file`,
  );
}

export function missingRequestTopicArnError(): GatewayConfigError {
  return new GatewayConfigError(
    'missing-request-topic-arn',
    'the sns-sqs backend needs a request topic ARN: pass --request-topic-arn, set ASYNCMCP_REQUEST_TOPIC_ARN, or add requestTopicArn to the config file',
  );
}

export function missingServerUrlError(backend: string): GatewayConfigError {
  const example =
    backend === 'hybrid' ? 'http://mcp.internal:8000/mcp' : 'http://mcp.internal:8000/mcp/request';
  return new GatewayConfigError(
    'missing-server-url',
    `the ${backend} backend needs the server's endpoint, such as ${example}: pass --server-url, set ASYNCMCP_SERVER_URL, or add serverUrl to the config file`,
  );
}
