import { DEFAULT_INHERITED_ENV_VARS } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { childEnvironment, childEnvironmentFields } from './child-environment.js';

const SERVE_ENV = {
  HOME: '/home/op',
  PATH: '/usr/bin:/bin',
  USER: 'op',
  SHELL: '/bin/sh',
  TERM: 'xterm',
  LOGNAME: 'op',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  ASYNCMCP_AUTH_TOKEN: 'auth-token',
  ASYNCMCP_SIGNING_SECRET: 'whsec_c2lnbmluZy1zZWNyZXQtYnl0ZXM=',
  API_KEY: 'the-server-key',
  UNSET: undefined,
};

describe('childEnvironment', () => {
  it("is the MCP SDK's minimal set by default, none of serve's secrets", () => {
    const child = childEnvironment({ passEnvironment: false, variables: [] }, SERVE_ENV);
    expect(child).toEqual({
      HOME: '/home/op',
      PATH: '/usr/bin:/bin',
      USER: 'op',
      SHELL: '/bin/sh',
      TERM: 'xterm',
      LOGNAME: 'op',
    });
    expect(Object.keys(child).every((name) => DEFAULT_INHERITED_ENV_VARS.includes(name))).toBe(true);
  });

  it('adds --env NAME=value as given and --env NAME from serve, skipping names serve does not have', () => {
    const child = childEnvironment(
      {
        passEnvironment: false,
        variables: [
          { name: 'API_KEY' },
          { name: 'MODE', value: 'fast' },
          { name: 'UNSET' },
          { name: 'NOPE' },
        ],
      },
      SERVE_ENV,
    );
    expect(child).toMatchObject({ API_KEY: 'the-server-key', MODE: 'fast' });
    expect('UNSET' in child || 'NOPE' in child).toBe(false);
    expect(child.AWS_SECRET_ACCESS_KEY).toBeUndefined();
  });

  it('skips an exported shell function in the minimal set, as the SDK does', () => {
    const child = childEnvironment(
      { passEnvironment: false, variables: [] },
      { PATH: '/bin', SHELL: '() { echo pwned; }' },
    );
    expect(child).toEqual({ PATH: '/bin' });
  });

  it('passes everything with --pass-environment, --env still overriding', () => {
    const child = childEnvironment(
      { passEnvironment: true, variables: [{ name: 'API_KEY', value: 'override' }] },
      SERVE_ENV,
    );
    expect(child).toMatchObject({ AWS_SECRET_ACCESS_KEY: 'aws-secret', API_KEY: 'override' });
    expect('UNSET' in child).toBe(false);
  });

  it('names the variables for the log, never their values', () => {
    const fields = childEnvironmentFields({
      passEnvironment: false,
      variables: [{ name: 'API_KEY', value: 'hunter2' }, { name: 'HOME_DIR' }],
    });
    expect(fields).toEqual({ childEnv: 'minimal', childEnvNames: ['API_KEY', 'HOME_DIR'] });
    expect(JSON.stringify(fields)).not.toContain('hunter2');
  });
});
