import { DEFAULT_INHERITED_ENV_VARS } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ChildEnvironment, Environment } from './config/index.js';

/**
 * The environment a `serve` child process runs with. By default the MCP SDK's own minimal set for stdio
 * servers (`DEFAULT_INHERITED_ENV_VARS`: HOME, LOGNAME, PATH, SHELL, TERM, USER on POSIX), taken from
 * serve's environment, plus the variables `--env` names: serve's own settings — its auth token, signing
 * secret, AWS keys — stay out, since the server is another program and owes serve nothing. With
 * `--pass-environment` the child gets serve's whole environment instead.
 */
export function childEnvironment(spec: ChildEnvironment, env: Environment): Record<string, string> {
  const child: Record<string, string> = {};
  const names = spec.passEnvironment ? Object.keys(env) : DEFAULT_INHERITED_ENV_VARS;
  for (const name of names) {
    const value = env[name];
    // As the SDK does: an exported shell function (`() { …`) is code, not a value to hand on.
    if (value !== undefined && (spec.passEnvironment || !value.startsWith('()'))) child[name] = value;
  }
  for (const { name, value } of spec.variables) {
    const given = value ?? env[name];
    if (given !== undefined) child[name] = given;
  }
  return child;
}

/** What the `serving` log line says about the child environment: names only, values may be secrets. */
export function childEnvironmentFields(spec: ChildEnvironment): Record<string, unknown> {
  return {
    childEnv: spec.passEnvironment ? 'everything (--pass-environment)' : 'minimal',
    childEnvNames: spec.variables.map((variable) => variable.name),
  };
}
