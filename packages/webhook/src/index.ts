/**
 * @asyncmcp/webhook — MCP over HTTP webhooks (PROTOCOL.md §3) and Streamable HTTP with webhook delivery
 * for slow tools (§4): client transports, server session managers and gateway backends, with Standard
 * Webhooks signing and an SSRF guard on every webhook the server calls.
 */

export type { ClientWebhookCommonOptions } from './client-webhook-endpoint.js';
export {
  StreamableHttpWebhookClientTransport,
  type StreamableHttpWebhookClientTransportOptions,
} from './hybrid-client-transport.js';
export {
  createHybridServer,
  HybridSessionManager,
  type HybridSessionManagerOptions,
  type HybridStats,
  type HybridTransportOptions,
} from './hybrid-session-manager.js';
export type { WebhookAnswerStats, WebhookToolSelector } from './hybrid-webhook-answers.js';
export {
  type HybridBackend,
  type HybridBackendOptions,
  hybridBackend,
  type WebhookBackend,
  type WebhookBackendOptions,
  type WebhookBackendStats,
  type WebhookRouteBackend,
  webhookBackend,
} from './webhook-backend.js';
export {
  WebhookClientTransport,
  type WebhookClientTransportOptions,
  type WebhookListenOptions,
} from './webhook-client-transport.js';
export { WEBHOOK_DEFAULTS } from './webhook-defaults.js';
export {
  WebhookDeliveryError,
  type WebhookDeliveryOptions,
  type WebhookDeliveryStats,
} from './webhook-deliverer.js';
export { WebhookHeader } from './webhook-headers.js';
export type { ListenOptions, NodeRequestHandler } from './webhook-http.js';
export type { WebhookReceiverStats } from './webhook-receiver.js';
export { WebhookSessionManager, type WebhookSessionManagerOptions } from './webhook-session-manager.js';
export {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  decodeWebhookSecret,
  SignatureHeader,
  type VerifyResult,
  type WebhookSecret,
  WebhookSigner,
  WebhookVerifier,
  type WebhookVerifierOptions,
} from './webhook-signing.js';
export {
  type AddressClass,
  classifyAddress,
  type ResolvedAddress,
  resolveWebhookTarget,
  type WebhookDnsLookup,
  type WebhookTarget,
  type WebhookUrlPolicy,
  WebhookUrlRefusedError,
} from './webhook-url-guard.js';
