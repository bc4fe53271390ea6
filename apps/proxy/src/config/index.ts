/** The gateway's and serve's configuration: settings, sources, the config file and its schema. */
export {
  BACKEND_NAMES,
  type BackendName,
  isAwsBackend,
  isWebhookBackend,
  LOG_LEVELS,
  type LogLevel,
} from './backend-names.js';
export {
  CONFIG_SETTING,
  configFilePath,
  readConfigFile,
  SERVE_CONFIG_SETTING,
} from './config-file.js';
export { type DemoConfig, resolveDemoConfig } from './demo-config.js';
export {
  GatewayConfigError,
  type GatewayConfigErrorReason,
  missingRequestQueueUrlError,
  missingRequestTopicArnError,
  missingServerUrlError,
} from './errors.js';
export {
  type AwsClientConfig,
  type FlagValues,
  type GatewayBackendConfig,
  type GatewayConfig,
  type ResolveConfigInput,
  resolveConfig,
  type WebhookGatewayBackend,
} from './gateway-config.js';
export { GATEWAY_SETTINGS, type GatewaySettingKey as SettingKey, SETTINGS } from './gateway-settings.js';
export { CONFIG_JSON_SCHEMAS, configJsonSchema } from './schema.js';
export {
  type ResolveServeConfigInput,
  resolveServeConfig,
  type ServeConfig,
  type ServeFlagValues,
  type ServeHttpConfig,
  type ServeQueueConfig,
} from './serve-config.js';
export { SERVE_FILE_ONLY_KEYS, SERVE_SETTINGS, type ServeSettingKey } from './serve-settings.js';
export type { ChildEnvironment, ServeUpstream } from './serve-upstream.js';
export type { SettingSpec } from './setting.js';
export type { Environment, FlagValue } from './sources.js';
