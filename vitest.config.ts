import { defineConfig } from 'vitest/config';

// One entry point for `vitest` at the root (watch mode, IDEs); CI runs each
// package's own `vitest run` through turbo so builds of dependencies come first.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'examples/*'],
  },
});
