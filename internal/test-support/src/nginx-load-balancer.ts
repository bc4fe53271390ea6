import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadBalancer } from './load-balancer-types.js';

/**
 * The nginx config users are told to run in front of several gateway instances. The harness runs this
 * very file, with only its upstream servers and listen address replaced, so what is documented is what
 * is tested.
 */
export const DOCUMENTED_NGINX_CONFIG = fileURLToPath(
  new URL('../../../apps/proxy/deploy/nginx.conf', import.meta.url),
);

/** Every wait here is bounded by this, so a balancer that does not come up fails with what it said. */
const START_MS = 15_000;
const STOP_MS = 10_000;
/** New free ports tried when nginx loses its port to another process between our pick and its bind. */
const BIND_ATTEMPTS = 5;

/** The nginx binary: on PATH, or where Debian and the nginx sources install it. */
export function findNginx(): string | undefined {
  const candidates = [
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean),
    '/usr/sbin',
    '/usr/local/sbin',
    '/usr/local/nginx/sbin',
  ].map((directory) => join(directory, 'nginx'));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The documented config with its placeholder upstream servers replaced by `upstreams` and its listen
 * address by `listen`. Throws when the documented file no longer has those lines in the expected form,
 * rather than testing something else than it says.
 */
export function deriveNginxServers(documented: string, upstreams: readonly string[], listen: string): string {
  const placeholder = /^([ \t]*)server[ \t]+gateway-[\w-]+:\d+;[ \t]*\n/gm;
  const found = documented.match(placeholder) ?? [];
  if (found.length === 0) throw new Error('the documented nginx config has no `server gateway-…:8080;` line');
  const listens = documented.match(/^[ \t]*listen[ \t]+80;[ \t]*$/gm) ?? [];
  if (listens.length !== 1)
    throw new Error('the documented nginx config must have exactly one `listen 80;` line');
  let first = true;
  return documented
    .replace(placeholder, (_line, indent: string) => {
      if (!first) return '';
      first = false;
      return upstreams.map((upstream) => `${indent}server ${hostPort(upstream)};\n`).join('');
    })
    .replace(/^([ \t]*)listen[ \t]+80;/m, `$1listen ${listen};`);
}

function hostPort(upstream: string): string {
  const url = new URL(upstream);
  if (url.protocol !== 'http:' || url.port === '') {
    throw new Error(`upstream ${upstream} must be http://host:port`);
  }
  return url.host;
}

interface NginxBuild {
  /** Modules with a temp directory of their own, whose compiled-in path (under /var/lib/nginx on
   * Debian) nginx creates at start: that fails for a user other than root unless the config moves it. */
  fastcgi: boolean;
  uwsgi: boolean;
  scgi: boolean;
  /** `-e`: the log of the start itself, before the config's own is open (nginx 1.19.5 and later). */
  startupLog: boolean;
}

let nginxBuild: NginxBuild | undefined;

function describeNginx(nginx: string): NginxBuild {
  if (nginxBuild === undefined) {
    const built = outputOf(nginx, ['-V']);
    nginxBuild = {
      fastcgi: !built.includes('--without-http_fastcgi_module'),
      uwsgi: !built.includes('--without-http_uwsgi_module'),
      scgi: !built.includes('--without-http_scgi_module'),
      startupLog: /^\s*-e filename/m.test(outputOf(nginx, ['-h'])),
    };
  }
  return nginxBuild;
}

/** Both output streams of a short command (`nginx -V` prints to stderr), empty when it cannot run. */
function outputOf(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: START_MS });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`;
}

let pdeathsig: boolean | undefined;

/**
 * Whether util-linux's setpriv can tie nginx's life to this process. Node processes of a test run die
 * with their parent through a preloaded module; nginx cannot load one, and a test worker killed
 * outright would otherwise leave it listening.
 */
function canTieToParent(): boolean {
  if (pdeathsig === undefined) {
    pdeathsig = process.platform === 'linux' && outputOf('setpriv', ['--help']).includes('--pdeathsig');
  }
  return pdeathsig;
}

export async function startNginx(
  nginx: string,
  upstreams: readonly string[],
  documentedPath: string,
): Promise<LoadBalancer> {
  const documented = readFileSync(documentedPath, 'utf8');
  const build = describeNginx(nginx);
  let lastFailure = '';
  for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'asyncmcp-nginx-'));
    const temp = (name: string) => join(dir, name);
    for (const name of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(temp(name));
    const config = [
      // One process: nothing to switch users for when run as root, so no `user` directive is needed
      // either way, and a SIGKILL leaves no worker behind.
      'master_process off;',
      `pid ${temp('nginx.pid')};`,
      `error_log ${temp('error.log')} notice;`,
      'events { worker_connections 1024; }',
      'http {',
      // $upstream_addr lists every instance tried; the last one answered.
      '  log_format balanced "$upstream_addr $status";',
      `  access_log ${temp('access.log')} balanced;`,
      `  client_body_temp_path ${temp('client_body')};`,
      `  proxy_temp_path ${temp('proxy')};`,
      ...(build.fastcgi ? [`  fastcgi_temp_path ${temp('fastcgi')};`] : []),
      ...(build.uwsgi ? [`  uwsgi_temp_path ${temp('uwsgi')};`] : []),
      ...(build.scgi ? [`  scgi_temp_path ${temp('scgi')};`] : []),
      deriveNginxServers(documented, upstreams, `127.0.0.1:${port}`),
      '}',
      '',
    ].join('\n');
    const configPath = temp('nginx.conf');
    await writeFile(configPath, config);
    const args = [
      '-p',
      `${dir}/`,
      ...(build.startupLog ? ['-e', temp('error.log')] : []),
      '-c',
      configPath,
      '-g',
      'daemon off;',
    ];
    const child = canTieToParent()
      ? spawn('setpriv', ['--pdeathsig', 'KILL', '--', nginx, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(nginx, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout?.on('data', (chunk) => output.push(String(chunk)));
    child.stderr?.on('data', (chunk) => output.push(String(chunk)));
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
      child.once('error', (error) => resolve(String(error)));
    });
    const started = await untilNginxListens(child, exited, temp('nginx.pid'), port);
    if (started === 'listening') {
      const url = `http://127.0.0.1:${port}`;
      let stopping: Promise<void> | undefined;
      return {
        url,
        kind: 'nginx' as const,
        answeredBy: async () => countNginxAnswers(await readFile(temp('access.log'), 'utf8'), upstreams),
        stop: () => {
          stopping ??= stopNginx(child, exited).finally(() => rm(dir, { recursive: true, force: true }));
          return stopping;
        },
      };
    }
    const log = await readFile(temp('error.log'), 'utf8').catch(() => '');
    lastFailure = `nginx ${started}\n${log}${output.join('')}\nconfig:\n${config}`;
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    if (!/Address already in use/.test(log + output.join(''))) break;
  }
  throw new Error(`nginx did not start: ${lastFailure}`);
}

/** Resolves once nginx has written its pid file (it does so after binding) and accepts a connection. */
async function untilNginxListens(
  child: ChildProcess,
  exited: Promise<number | string>,
  pidFile: string,
  port: number,
): Promise<'listening' | 'timed out' | string> {
  let exit: number | string | undefined;
  void exited.then((value) => {
    exit = value;
  });
  const deadline = Date.now() + START_MS;
  while (Date.now() < deadline) {
    if (exit !== undefined) return `exited (${exit})`;
    if (existsSync(pidFile) && (await accepts(port))) return 'listening';
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  child.kill('SIGKILL');
  return 'timed out';
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stopNginx(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // SIGTERM is nginx's fast shutdown: open SSE streams are cut rather than waited for.
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), STOP_MS);
  });
  if ((await Promise.race([exited, late])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

function countNginxAnswers(log: string, upstreams: readonly string[]): Record<string, number> {
  const byHost = new Map(upstreams.map((upstream) => [hostPort(upstream), upstream]));
  const counts: Record<string, number> = Object.fromEntries(upstreams.map((upstream) => [upstream, 0]));
  for (const line of log.split('\n')) {
    // "<address>[, <address> …] <status>": the status is the last field.
    const addresses = line.slice(0, line.lastIndexOf(' ')).split(', ');
    const upstream = byHost.get(addresses[addresses.length - 1] ?? '');
    if (upstream !== undefined) counts[upstream] = (counts[upstream] ?? 0) + 1;
  }
  return counts;
}

/** A port nothing listens on now; nginx cannot be told to pick one itself. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createTcpServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port from the kernel'));
      });
    });
  });
}
