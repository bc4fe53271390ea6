import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('custom-transport demo', () => {
  // An open BroadcastChannel keeps Node running, so exiting unaided proves every channel was closed.
  it('prints the answer and exits on its own', async () => {
    // Run from this package, so `--import tsx` resolves wherever vitest was started.
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd,
      timeout: 20_000,
    });
    expect(stdout).toMatch(/^session [0-9a-f]{32}\n2 \+ 40 = 42\n$/);
  });
});
