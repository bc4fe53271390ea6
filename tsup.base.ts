import type { Options } from 'tsup';

/**
 * The build every published package shares: ESM and CommonJS with types, for the Node versions the
 * packages' `engines` name. A package's tsup.config.ts spreads it and adds only what differs.
 */
export const tsupBase = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
} satisfies Options;
