import { fileURLToPath } from 'node:url';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

/** Makes every process of a test run die with the process that started it (see the file's comment). */
const DIE_WITH_PARENT = fileURLToPath(
  new URL('./internal/test-support/die-with-parent.cjs', import.meta.url),
);

/**
 * The settings every package's tests share: where tests live, generous per-test bounds (each wait inside
 * a test has its own, tighter bound), and no process that outlives the run.
 */
export function testProject(name: string): UserWorkspaceConfig {
  return defineProject({
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      execArgv: ['--require', DIE_WITH_PARENT],
      // For what the tests spawn; `pnpm test` sets it already (scripts/run-tests.mjs), a bare `vitest` not.
      env: { NODE_OPTIONS: withPreload(process.env.NODE_OPTIONS ?? '') },
    },
  });
}

function withPreload(nodeOptions: string): string {
  return nodeOptions.includes(DIE_WITH_PARENT)
    ? nodeOptions
    : `${nodeOptions} --require "${DIE_WITH_PARENT}"`.trim();
}
