import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
  // The peer and the two drivers stay imports: a user's own org-policy, pg and PGlite are the ones used.
  external: ['org-policy', 'pg', '@electric-sql/pglite'],
});
