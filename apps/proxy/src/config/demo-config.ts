import { PROXY_DEFAULTS } from '@asyncmcp/proxy';
import type { BackendName, LogLevel } from './backend-names.js';
import { GATEWAY_SETTINGS } from './gateway-settings.js';
import { parseGiven } from './setting.js';
import type { Raw } from './sources.js';

export interface DemoConfig {
  /** The transport the demo runs over, on its emulator. */
  backend: BackendName;
  port: number;
  host: string;
  logLevel: LogLevel;
}

/** The demo's own default: quieter than the gateway, since its banner is on the same terminal. */
const DEMO_LOG_LEVEL: LogLevel = 'warn';

/** The demo's few settings, flags only, checked like the gateway's. */
export function resolveDemoConfig(flags: {
  backend?: string;
  port?: string;
  host?: string;
  logLevel?: string;
}): DemoConfig {
  const raw = (value: string | undefined, flag: string): Raw | undefined =>
    value === undefined || value === '' ? undefined : { value, source: { kind: 'flag', flag } };
  return {
    backend: parseGiven(GATEWAY_SETTINGS.backend, raw(flags.backend, '--backend')) ?? 'sqs',
    port: parseGiven(GATEWAY_SETTINGS.port, raw(flags.port, '--port')) ?? PROXY_DEFAULTS.port,
    host: parseGiven(GATEWAY_SETTINGS.host, raw(flags.host, '--host')) ?? PROXY_DEFAULTS.host,
    logLevel: parseGiven(GATEWAY_SETTINGS.logLevel, raw(flags.logLevel, '--log-level')) ?? DEMO_LOG_LEVEL,
  };
}
