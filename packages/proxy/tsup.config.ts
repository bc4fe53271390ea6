import { defineConfig } from 'tsup';
import { tsupBase } from '../../tsup.base.ts';

export default defineConfig({
  ...tsupBase,
  // import.meta.url in the CommonJS build too: it finds the stdio reaper's script (stdio-reaper.ts).
  shims: true,
});
