import { defineConfig, type Options } from 'tsup';

const shared = {
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
  // Source maps map stack traces (node --enable-source-maps) to src/ file:line, as tagged in the
  // repository; the sources themselves are not embedded, so the maps stay small and ship no second copy.
  sourcemap: true,
  esbuildOptions(options) {
    options.sourcesContent = false;
  },
} satisfies Options;

// The two builds run side by side: each empties dist/ except what the other one writes.
export default defineConfig([
  // The library: ESM and CommonJS, with declarations for each.
  { ...shared, entry: { index: 'src/index.ts' }, format: ['esm', 'cjs'], dts: true, clean: ['!cli.js', '!cli.js.map'] },
  // The `org-policy` bin: ESM only (package.json's "bin" points at dist/cli.js); a CommonJS copy would be dead weight.
  { ...shared, entry: { cli: 'src/cli/index.ts' }, format: ['esm'], dts: false, clean: ['!index.*'] },
]);
