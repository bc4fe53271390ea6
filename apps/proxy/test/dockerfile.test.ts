import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SqsEmulator, startSqsEmulator } from '@asyncmcp-internal/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../src/config/index.js';
import {
  CliProcess,
  cleanEnv,
  emulatorBackendFlags,
  killAll,
  runCli,
  stopEmulator,
  WAIT_MS,
  within,
} from './cli-process.js';
import { readDockerfile, runtimeImage } from './dockerfile.js';

// apps/proxy/Dockerfile, checked without Docker: its runtime stage's ENTRYPOINT, CMD and ENV are read
// from the file and the built CLI is run with them, as `docker run [-e …] asyncmcp-proxy [args…]` would.

const stages = readDockerfile();
const image = runtimeImage(stages);

const FIXTURE = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
/** Nothing listens there: the webhook gateway starts anyway (and reports the server as not ready). */
const SERVER_URL = 'http://127.0.0.1:9/mcp/request';
const WEBHOOK_BASE_URL = 'http://gateway-1.internal:8080';

/** The CLI's arguments for `docker run <image> [args…]`: the entrypoint's own, then args or else CMD. */
function entrypointArgs(args: readonly string[]): string[] {
  const [program, script, ...fixed] = image.entrypoint;
  expect(program).toBe('node');
  // The image's /app is the deployed apps/proxy, so its dist/cli.js is the one CliProcess runs.
  expect(posix.join(image.workdir ?? '/', script ?? '')).toBe('/app/dist/cli.js');
  return [...fixed, ...(args.length > 0 ? args : image.cmd)];
}

/** The container's environment: the image's ENV, then `-e name=value` (an empty value is still set). */
function imageEnv(runEnv: Record<string, string> = {}): Record<string, string> {
  return cleanEnv({ ...image.env, ...runEnv });
}

function dockerRun(args: readonly string[], runEnv: Record<string, string> = {}): CliProcess {
  return new CliProcess(entrypointArgs(args), imageEnv(runEnv));
}

/** A `docker run` to compare bindings: its arguments, its -e, a config file's extra lines, the host expected. */
interface HostCase {
  what: string;
  args: string[];
  env: Record<string, string>;
  file?: string;
  host: string;
}

/** Where the image binds by default, and the two ways a user overrides it. */
const IMAGE_HOST_CASES: HostCase[] = [
  { what: 'by default', args: [], env: {}, host: '0.0.0.0' },
  {
    what: 'with -e ASYNCMCP_HOST=127.0.0.1',
    args: [],
    env: { ASYNCMCP_HOST: '127.0.0.1' },
    host: '127.0.0.1',
  },
  { what: 'with --host 127.0.0.1', args: ['--host', '127.0.0.1'], env: {}, host: '127.0.0.1' },
];

function hostOf(url: unknown): string {
  return new URL(String(url)).hostname;
}

/** Runs the image's HEALTHCHECK command; its exit code (null if it was killed). */
function runHealthcheck(env: Record<string, string>): Promise<number | null> {
  const [program, ...args] = image.healthcheck ?? [];
  expect(program).toBe('node');
  const exited = new Promise<number | null>((resolve) => {
    execFile(process.execPath, args, { env, timeout: WAIT_MS }, (error) => {
      if (error === null) resolve(0);
      else resolve(typeof error.code === 'number' ? error.code : null);
    });
  });
  return within(exited, 'the healthcheck');
}

describe('the container image (apps/proxy/Dockerfile)', () => {
  let dir: string;
  let files = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'asyncmcp-dockerfile-'));
  });

  /** Writes a config file as a user would mount it, and returns the -e that names it. */
  function mountConfig(yaml: string): Record<string, string> {
    files += 1;
    const path = join(dir, `config-${files}.yaml`);
    writeFileSync(path, yaml);
    return { ASYNCMCP_CONFIG: path };
  }

  afterEach(async () => {
    await killAll();
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A webhook gateway's settings, in the file: the backend and what it requires, and a token, which the
   * image's every-interface binding requires.
   */
  const webhookConfig = (extra = '') =>
    `backend: webhook\nserverUrl: ${SERVER_URL}\nwebhookBaseUrl: ${WEBHOOK_BASE_URL}\nport: 0\nauthToken: image-test-token\n${extra}`;

  describe('as written', () => {
    it('runs on a supported Node.js LTS in every stage', () => {
      expect(stages.length).toBeGreaterThanOrEqual(2);
      for (const stage of stages) expect(stage.image).toMatch(/^node:(22|24)([.-]|$)/);
    });

    it('downloads dependencies from the lockfile before it copies the sources', () => {
      const builder = stages[0]!.instructions;
      const download = builder.findIndex(
        ({ keyword, args }) => keyword === 'RUN' && /\bpnpm (fetch|install)\b/.test(args),
      );
      expect(download).toBeGreaterThan(-1);
      const copiedFirst = builder
        .slice(0, download)
        .filter(({ keyword }) => keyword === 'COPY')
        .flatMap(({ args }) => args.split(/\s+/).slice(0, -1));
      expect(copiedFirst.length).toBeGreaterThan(0);
      for (const source of copiedFirst) {
        expect(source).toMatch(/(^|\/)(pnpm-lock\.yaml|pnpm-workspace\.yaml|package\.json)$/);
      }
      const copyAll = builder.findIndex(({ keyword, args }) => keyword === 'COPY' && /^\.\s/.test(args));
      expect(copyAll).toBeGreaterThan(download);
      expect(builder.some(({ args }) => /\bdeploy\b.*--prod/.test(args))).toBe(true);
    });

    it('starts the CLI itself, so gateway flags, serve or demo follow the image name', () => {
      expect(image.entrypoint).toEqual(['node', 'dist/cli.js']);
      expect(image.cmd).toEqual([]);
    });

    it('sets no setting in the environment but the host, which would outrank a mounted config file', () => {
      const settingNames = new Set<string>(SETTINGS.flatMap((setting) => setting.env));
      expect(Object.keys(image.env).filter((name) => settingNames.has(name))).toEqual(['ASYNCMCP_HOST']);
      expect(image.env.ASYNCMCP_HOST).toBe('0.0.0.0');
    });
  });

  describe('the gateway', () => {
    it('honours a mounted config file that chooses the webhook backend', async () => {
      const cli = dockerRun([], mountConfig(webhookConfig()));
      const starting = await cli.waitForLog('starting the gateway');
      expect(starting.backend).toBe('webhook');
      expect(starting.webhookBaseUrl).toBe(WEBHOOK_BASE_URL);
      const listening = await cli.waitForLog('gateway listening');
      expect(listening.backend).toBe('webhook');
    });

    it('refuses to serve the network without a token, naming both ways out', async () => {
      const env = imageEnv(
        mountConfig(
          `backend: webhook\nserverUrl: ${SERVER_URL}\nwebhookBaseUrl: ${WEBHOOK_BASE_URL}\nport: 0\n`,
        ),
      );
      const result = await runCli(entrypointArgs([]), env);
      expect(result.code, result.stderr.join('\n')).toBe(2);
      expect(result.stderr).toEqual([
        'asyncmcp-proxy: --host 0.0.0.0 (from environment variable ASYNCMCP_HOST) exposes the gateway to the network without a bearer token: set one with --auth-token (or ASYNCMCP_AUTH_TOKEN), or pass --insecure-no-auth (or ASYNCMCP_INSECURE_NO_AUTH=true) if something in front of the gateway authenticates its clients',
      ]);
    });

    it('refuses an incomplete webhook config file for what webhook lacks, not as sqs', async () => {
      const env = imageEnv(mountConfig(`backend: webhook\nserverUrl: ${SERVER_URL}\nport: 0\n`));
      const result = await runCli(entrypointArgs([]), env);
      expect(result.code, result.stderr.join('\n')).toBe(2);
      expect(result.stderr).toHaveLength(1);
      expect(result.stderr[0]).toMatch(
        /^asyncmcp-proxy: the webhook backend needs .*--host 0\.0\.0\.0 \(from environment variable ASYNCMCP_HOST\).*--webhook-base-url/,
      );
      expect(result.stderr[0]).not.toMatch(/\bsqs\b/);
    });

    it.each<HostCase>([
      ...IMAGE_HOST_CASES,
      // Environment outranks the file, the image's ENV too; an empty -e unsets it, so the file decides.
      { what: "over a config file's host", args: [], env: {}, file: 'host: 127.0.0.1\n', host: '0.0.0.0' },
      {
        what: "with -e ASYNCMCP_HOST= and a config file's host",
        args: [],
        env: { ASYNCMCP_HOST: '' },
        file: 'host: 127.0.0.1\n',
        host: '127.0.0.1',
      },
    ])('binds $host $what', async ({ args, env, file, host }) => {
      const config = mountConfig(webhookConfig(file));
      const cli = dockerRun(args, { ...config, ...env });
      expect(hostOf(await cli.url())).toBe(host);
    });

    it('answers the HEALTHCHECK on the port ASYNCMCP_PORT or PORT names', async () => {
      const cli = dockerRun([], mountConfig(webhookConfig()));
      // In a container the variable holds the port the gateway listens on; port 0 only picks a free one.
      const port = new URL(await cli.url()).port;
      expect(await runHealthcheck(cleanEnv({ ASYNCMCP_PORT: port }))).toBe(0);
      expect(await runHealthcheck(cleanEnv({ PORT: port }))).toBe(0);
    });
  });

  describe('serve', () => {
    const serveWebhook = ['serve', '--backend', 'webhook', '--port', '0'];
    const command = ['--', process.execPath, FIXTURE];

    it.each<HostCase>(IMAGE_HOST_CASES)('over webhook binds $host $what', async ({ args, env, host }) => {
      const cli = dockerRun([...serveWebhook, ...args, ...command], env);
      const serving = await cli.waitForLog('serving');
      expect(serving.backend).toBe('webhook');
      expect(hostOf(serving.url)).toBe(host);
    });

    describe('over a queue', () => {
      let sqs: SqsEmulator | undefined;

      beforeAll(async () => {
        sqs = await startSqsEmulator();
      });

      afterAll(async () => {
        await stopEmulator(sqs);
      });

      // The image's ASYNCMCP_HOST is for whatever listens; serve over a queue listens on nothing, and
      // ignores it (a --host flag would still be refused as another backend's setting).
      it("runs over sqs with the image's host setting, which it does not use", async () => {
        const emulator = sqs!;
        const queue = await emulator.createQueue('dockerfile-serve');
        const args = [
          'serve',
          ...emulatorBackendFlags(emulator, 'sqs', ['--request-queue-url', queue]),
          ...command,
        ];
        const cli = dockerRun(args);
        const serving = await cli.waitForLog('serving');
        expect(serving.backend).toBe('sqs');
      });
    });
  });
});
