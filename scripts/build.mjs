// Builds dist/ with esbuild: one ESM bundle per entry point, dependencies left as imports.
import { build } from 'esbuild';

const entryPoints = {
  index: 'src/index.ts',
  'runtime/node': 'src/runtime/node.ts',
  'runtime/browser': 'src/runtime/browser.ts',
  'runtime/workers': 'src/runtime/workers.ts',
  'cli/main': 'src/cli/main.ts',
};
const { existsSync } = await import('node:fs');
await build({
  entryPoints: Object.fromEntries(Object.entries(entryPoints).filter(([, f]) => existsSync(f))),
  outdir: 'dist',
  bundle: true,
  splitting: true,
  platform: 'neutral',
  format: 'esm',
  target: 'es2022',
  packages: 'external',
  external: ['node:*'],
  sourcemap: true,
  logLevel: 'warning',
});
