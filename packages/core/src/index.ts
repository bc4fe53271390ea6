export { Backoff, type BackoffOptions, backoffDelay, delay } from './backoff.js';
export {
  type ClientReceived,
  ClientSessionState,
  type ClientSessionStateOptions,
} from './client-session-state.js';
export { type Clock, type ClockTimer, systemClock, unrefTimer } from './clock.js';
export {
  byteLength,
  classifyMessage,
  type DecodeResult,
  decodeMessage,
  encodeMessage,
  isAnswer,
  isErrorResponse,
  isInitializeRequest,
  isInitializeResult,
  isNotification,
  isRequest,
  isResultResponse,
  type MessageKind,
  protocolVersionOf,
  validateMessage,
} from './codec.js';
export type {
  Backend,
  BackendFleet,
  BackendHttpRoute,
  BackendListeningAddress,
  BackendMessageExtra,
  BackendSessionTransport,
  BackendTransportContext,
  ConnectableServer,
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  JSONRPCResultResponse,
  MessageExtraInfo,
  RequestId,
  ServerFactory,
  SessionInfo,
  SessionManager,
  Transport,
  TransportSendOptions,
} from './contracts.js';
export { type DedupeState, DedupeWindow, type DedupeWindowOptions, dedupeKey } from './dedupe-window.js';
export { QUEUE_DEFAULTS, SESSION_DEFAULTS } from './defaults.js';
export type {
  CloseOptions,
  DispatcherOptions,
  DispatcherStats,
  DispatchOptions,
  DispatchResult,
  Farewell,
  InboundMessage,
  RejectReason,
  SendTarget,
  Settlement,
} from './dispatch-contract.js';
export { readAddress, refusedDestination } from './dispatch-rejections.js';
export {
  Attribute,
  type AttributeName,
  buildClientAttributes,
  buildServerAttributes,
  CLIENT_RESERVED_ATTRIBUTE_COUNT,
  type ClientAttributesInput,
  type EnvelopeFields,
  MAX_MESSAGE_ATTRIBUTES,
  MESSAGE_TYPE_JSONRPC,
  type MessageAttributes,
  readEnvelope,
  validateCustomAttributes,
} from './envelope.js';
export {
  AsyncMcpError,
  AsyncMcpErrorCode,
  type AsyncMcpErrorOptions,
  ConfigurationError,
  DeliveryError,
  DestinationRefusedError,
  describeError,
  isDestinationGone,
  MessageTooLargeError,
  SessionError,
  SessionLostError,
  TimeoutError,
  TransportStateError,
  toError,
} from './errors.js';
export {
  type FleetClient,
  FleetSessionIds,
  type FleetSessionIdsOptions,
  MAX_FLEET_CLIENT_PART,
} from './fleet-session-ids.js';
export {
  InMemoryBroker,
  InMemoryClientTransport,
  InMemorySessionManager,
  inMemoryBackend,
} from './in-memory.js';
export {
  internalError,
  invalidSessionIdFormatError,
  isSessionGoneError,
  JsonRpcErrorCode,
  jsonRpcError,
  missingSessionIdError,
  parseError,
  sessionBusyError,
  sessionLostError,
  sessionNotFoundError,
  sessionTerminatedError,
  UNKNOWN_REQUEST_ID,
  unsupportedProtocolVersionError,
  validationError,
} from './jsonrpc-errors.js';
export { KeyedSerialQueue } from './keyed-serial-queue.js';
export { LOG_REDACTION, type Logger, sessionLogId, silentLogger } from './logger.js';
export {
  createMessageSigning,
  MessageSigner,
  type MessageSigning,
  type MessageSigningOptions,
  MessageVerifier,
  SIGNATURE_ATTRIBUTE_COUNT,
  SignatureAttribute,
  type SignatureRefusal,
  type SignatureVerdict,
  type SignedMessage,
  signedPayload,
} from './message-signing.js';
export {
  adoptionPing,
  adoptionPingIn,
  MetaKey,
  RequestMetaKey,
  readMeta,
  readMetaValue,
  readWorkerHint,
  WORKER_META_KEY,
  type WorkerHint,
  withMeta,
  withResultMeta,
} from './meta.js';
export { type RetryWhileMissingOptions, retryWhileMissing } from './missing-address-grace.js';
export {
  type Disposition,
  type HandledMessage,
  QueueConsumer,
  type QueueConsumerOptions,
  type QueueMessage,
  type QueueSource,
} from './queue-consumer.js';
export { pickQueuePolling, type QueuePollingOptions } from './queue-polling.js';
export {
  type CorrelatedAnswer,
  RequestCorrelator,
  type RequestCorrelatorOptions,
} from './request-correlator.js';
export { cancelledRequestId, requestIdKey } from './request-ids.js';
export type { ServerKey } from './server-key.js';
export { ServerPool, type ServerPoolOptions, type ServerPoolStats } from './server-pool.js';
export {
  isSessionAliveNotification,
  isSessionListeningNotification,
  isTerminateSessionNotification,
  SESSION_ALIVE_METHOD,
  SESSION_ENDED_METHOD,
  SESSION_LISTENING_METHOD,
  sessionAliveNotification,
  sessionEndedNotification,
  sessionEndedReason,
  sessionListeningNotification,
  TERMINATE_SESSION_METHOD,
  terminateSessionNotification,
} from './session-control.js';
export { SessionDispatcher, type SessionDispatcherOptions } from './session-dispatcher.js';
export {
  generateSessionId,
  isValidSessionId,
  MAX_SESSION_ID_LENGTH,
  type SessionIdFormat,
  sessionIdFor,
} from './session-id.js';
export {
  type LifecycleSession,
  SessionLifecycle,
  type SessionLifecycleOptions,
  type SessionLifecycleStats,
  type SessionLimits,
} from './session-lifecycle.js';
export {
  type SessionInfoSource,
  SessionRegistry,
  type SessionRegistryOptions,
  type SessionStatus,
  snapshotSessions,
  type Tombstone,
} from './session-registry.js';
export { SessionTable } from './session-table.js';
export { settleWithin } from './settle-within.js';
export {
  computeSignature,
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  newSignatureId,
  parseSignatureTimestamp,
  SigningKey,
  type SigningSecret,
  signatureMatches,
  signingKey,
} from './signature.js';
export {
  StatelessDispatcher,
  type StatelessDispatcherOptions,
  type StatelessDispatcherStats,
} from './stateless-dispatcher.js';
export { TurnBatcher, type TurnBatcherOptions } from './turn-batcher.js';
export {
  type SignedContent,
  VerifiedQueueSource,
  type VerifiedQueueSourceOptions,
} from './verified-queue-source.js';
export { unguessable, WireIds, type WireInbound } from './wire-ids.js';
