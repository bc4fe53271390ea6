/**
 * The backends by name, and the one fact the configuration needs of each: whether it is on AWS queues
 * (region and endpoint apply) or on HTTP (the server POSTs to a webhook). Everything else a backend
 * takes is in its settings schema (schema.ts) and its factory (backends.ts, serve.ts).
 */
export const BACKEND_TRANSPORTS = {
  sqs: 'aws',
  'sns-sqs': 'aws',
  webhook: 'http',
  hybrid: 'http',
} as const;

export type BackendName = keyof typeof BACKEND_TRANSPORTS;
export type AwsBackendName = {
  [K in BackendName]: (typeof BACKEND_TRANSPORTS)[K] extends 'aws' ? K : never;
}[BackendName];
export type WebhookBackendName = Exclude<BackendName, AwsBackendName>;

export const BACKEND_NAMES = Object.keys(BACKEND_TRANSPORTS) as [BackendName, ...BackendName[]];

export function isAwsBackend(name: BackendName): name is AwsBackendName {
  return BACKEND_TRANSPORTS[name] === 'aws';
}

export function isWebhookBackend(name: BackendName): name is WebhookBackendName {
  return BACKEND_TRANSPORTS[name] === 'http';
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
