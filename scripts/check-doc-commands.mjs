// Runs every shell command the READMEs document, as a newcomer would type it, in a fresh clone of this
// repository, and reports the ones that fail. Commands that need what a fresh clone cannot have (an AWS
// account, a Docker engine, a server of the reader's own) are listed as skipped, with the reason.
//
//   node scripts/check-doc-commands.mjs [--list] [--packs <dir> [--pack-only]] [file.md ...]
//
// - The clone is made from the committed HEAD; each file starts with no build output (dist/, turbo's
//   cache), so a README whose commands need a build must say so. node_modules is kept between files
//   (a README's own install command refreshes it).
// - The unreleased packages are packed (`pnpm pack`) and installed into a scratch project: `asyncmcp-proxy`
//   on PATH is that installed CLI, `npx asyncmcp-proxy …` runs in that project, and `npm i @asyncmcp/…`
//   installs the packed packages — what those commands will do once the packages are on the registry.
// - Commands of one block share a working directory (`cd`) and exported variables (`export`).
// Exit code 0: every command that ran succeeded; 1: some failed; 2: bad usage.
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RULES } from './doc-commands.rules.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const PNPM = ['npx', '--yes', 'pnpm@10.34.8'];
const PUBLIC_PACKAGES = [
  'packages/core',
  'packages/sqs',
  'packages/sns-sqs',
  'packages/webhook',
  'packages/proxy',
  'apps/proxy',
];

const { values, positionals } = parseArgs({
  options: {
    list: { type: 'boolean', default: false },
    // Pack into this folder and stop (CI packs before anything else can rewrite dist/), or use its packs.
    packs: { type: 'string' },
    'pack-only': { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

function documentedFiles() {
  const inDirectory = (directory) =>
    readdirSync(join(root, directory))
      .map((name) => join(directory, name, 'README.md'))
      .filter((file) => existsSync(join(root, file)))
      .sort();
  return [
    'README.md',
    'apps/proxy/README.md',
    ...inDirectory('packages'),
    ...inDirectory('examples'),
    'docs/custom-transports.md',
    'bench/README.md',
  ];
}

/** The shell blocks of a markdown file, each a list of commands (continuation lines joined, comments dropped). */
export function shellBlocks(markdown) {
  const blocks = [];
  let block;
  for (const [index, line] of markdown.split('\n').entries()) {
    const fence = /^\s*```(\S*)/.exec(line);
    if (fence) {
      if (block) {
        blocks.push(block);
        block = undefined;
      } else if (['bash', 'sh', 'shell'].includes(fence[1])) {
        block = { line: index + 1, commands: [] };
      } else {
        block = undefined;
        // a fence of another language: skip to its end
        blocks.push(null);
      }
      continue;
    }
    if (!block) continue;
    const text = line.replace(/\s+#\s.*$/, '').trimEnd();
    if (text.trim() === '' || text.trim().startsWith('#')) continue;
    const last = block.commands.at(-1);
    if (last?.endsWith('\\'))
      block.commands[block.commands.length - 1] = `${last.slice(0, -1).trimEnd()} ${text.trim()}`;
    else block.commands.push(text.trim());
  }
  return blocks.filter(Boolean);
}

function ruleFor(command) {
  return RULES.find((rule) => rule.match.test(command)) ?? { run: 'exit-0' };
}

/** Packs every public package (built already) into `packs`, one folder each, unless that is done. */
function packAll(packs) {
  const tarballs = new Map();
  for (const directory of PUBLIC_PACKAGES) {
    const destination = join(packs, directory.replace('/', '-'));
    if (!existsSync(destination)) {
      mkdirSync(destination, { recursive: true });
      execFileSync(PNPM[0], [...PNPM.slice(1), 'pack', '--pack-destination', destination], {
        cwd: join(root, directory),
        stdio: 'ignore',
      });
    }
    const name = JSON.parse(readFileSync(join(root, directory, 'package.json'), 'utf8')).name;
    tarballs.set(name, join(destination, readdirSync(destination)[0]));
  }
  return tarballs;
}

/** Installs the packed packages into a scratch project, as npm would from the registry. */
function installPacked(work, packs) {
  const tarballs = packAll(packs);
  const project = join(work, 'installed');
  mkdirSync(project, { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'doc-check', private: true, type: 'module' }),
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs.values()], {
    cwd: project,
    stdio: 'ignore',
  });
  return { project, tarballs };
}

/** `npm i @asyncmcp/x …` installs the packed @asyncmcp packages (all of them, so their own deps resolve). */
function withPackedPackages(command, tarballs) {
  const install = /^npm (i|install)\s/.exec(command);
  if (!install) return command;
  const words = command.split(/\s+/).slice(2);
  if (!words.some((word) => tarballs.has(word))) return command;
  const others = words.filter((word) => !tarballs.has(word));
  const packed = [...tarballs].filter(([name]) => name.startsWith('@asyncmcp/')).map(([, path]) => path);
  return `npm install --no-audit --no-fund ${[...packed, ...others].join(' ')}`;
}

function run(command, { cwd, env, until, timeoutMs, background = false }) {
  return new Promise((done) => {
    const child = spawn('bash', ['-c', command], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    let settled = false;
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done({ ...result, output });
    };
    const stopGroup = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // gone
      }
    };
    const onData = (chunk) => {
      output += chunk;
      if (until && output.includes(until)) {
        if (background) {
          // Ready: it serves the commands after it, and is stopped at the end of its block.
          finish({ ok: true, stop: () => stopAndWait(child, stopGroup) });
          return;
        }
        // Seen what it should print: stop it, and it must stop.
        stopGroup('SIGTERM');
        const kill = setTimeout(() => stopGroup('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(kill);
          finish({ ok: true });
        });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    const timer = setTimeout(() => {
      stopGroup('SIGKILL');
      finish({
        ok: false,
        why: until
          ? `no "${until}" within ${timeoutMs / 1000} s`
          : `still running after ${timeoutMs / 1000} s`,
      });
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      if (settled) return;
      if (until) {
        if (!output.includes(until))
          finish({ ok: false, why: `exited (${code ?? signal}) before printing "${until}"` });
        return;
      }
      stopGroup('SIGKILL');
      finish(code === 0 ? { ok: true } : { ok: false, why: `exit ${code ?? signal}` });
    });
  });
}

function stopAndWait(child, stopGroup) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => stopGroup('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    stopGroup('SIGTERM');
  });
}

/** `pnpm` in the docs is the pinned pnpm the README's first command uses: a shim on PATH runs it. */
function pnpmShim(work) {
  const bin = join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'pnpm'), `#!/bin/sh\nexec npx --yes pnpm@10.34.8 "$@"\n`, { mode: 0o755 });
  return bin;
}

async function main() {
  if (values['pack-only']) {
    if (!values.packs) throw new Error('--pack-only needs --packs <dir>');
    packAll(values.packs);
    return;
  }
  const files = positionals.length > 0 ? positionals : documentedFiles();
  const plan = files.map((file) => ({ file, blocks: shellBlocks(readFileSync(join(root, file), 'utf8')) }));
  if (values.list) {
    for (const { file, blocks } of plan)
      for (const block of blocks)
        for (const command of block.commands) {
          const rule = ruleFor(command);
          console.log(`${file}:${block.line} [${rule.run}${rule.why ? `: ${rule.why}` : ''}] ${command}`);
        }
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'asyncmcp-doc-check-'));
  const clone = join(work, 'clone');
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', root, clone]);
  const { project, tarballs } = installPacked(work, values.packs ?? join(work, 'packs'));
  const env = {
    ...process.env,
    PATH: `${join(project, 'node_modules', '.bin')}:${pnpmShim(work)}:${process.env.PATH}`,
    FORCE_COLOR: '0',
  };
  const results = { ran: 0, failed: [], skipped: 0 };
  try {
    for (const { file, blocks } of plan) {
      // Each file starts where a newcomer's clone is: no build output.
      execFileSync('git', ['clean', '-xdfq', '-e', 'node_modules', '-e', '.ci/.node'], { cwd: clone });
      for (const block of blocks) {
        let cwd = clone;
        const blockEnv = { ...env };
        const running = [];
        let skippedSetting;
        for (const written of block.commands) {
          const where = `${file}:${block.line}`;
          let rule = ruleFor(written);
          // What follows a setting that was not made cannot run as documented either.
          if (skippedSetting && rule.run !== 'skip')
            rule = { run: 'skip', why: `follows "${skippedSetting}", skipped` };
          if (rule.run === 'skip') {
            if (/^export\s/.test(written)) skippedSetting = written;
            results.skipped += 1;
            console.log(`skip  ${where}  ${written}\n      (${rule.why})`);
            continue;
          }
          const cd = /^cd\s+(\S+)$/.exec(written);
          if (cd) {
            cwd = resolve(cwd, cd[1]);
            continue;
          }
          const exported = /^export\s+([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(written);
          if (exported) {
            blockEnv[exported[1]] = execFileSync('bash', ['-c', `printf %s ${exported[2]}`], {
              encoding: 'utf8',
            });
            continue;
          }
          const command = withPackedPackages(written, tarballs);
          const inProject = /^npx (--yes )?asyncmcp-proxy\b/.test(command) || command !== written;
          const started = Date.now();
          const outcome = await run(command, {
            cwd: inProject ? project : cwd,
            env: blockEnv,
            until: rule.until,
            background: rule.run === 'background',
            timeoutMs: (rule.timeoutS ?? 600) * 1000,
          });
          if (outcome.stop) running.push(outcome.stop);
          results.ran += 1;
          const seconds = ((Date.now() - started) / 1000).toFixed(0);
          if (outcome.ok) {
            console.log(`ok    ${where}  ${written}  (${seconds} s)`);
          } else {
            results.failed.push(`${where}  ${written}`);
            console.log(
              `FAIL  ${where}  ${written}  (${outcome.why})\n${outcome.output.split('\n').slice(-25).join('\n')}`,
            );
          }
        }
        for (const stop of running.reverse()) await stop();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(
    `documented commands: ${results.ran} ran, ${results.failed.length} failed, ${results.skipped} skipped`,
  );
  process.exitCode = results.failed.length > 0 ? 1 : 0;
}

await main();
