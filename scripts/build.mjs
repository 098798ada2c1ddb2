// Builds dist/ with esbuild: one ESM bundle per entry point, dependencies left as imports.
import { build } from 'esbuild';

const entryPoints = {
  index: 'src/index.ts',
  'runtime/node': 'src/runtime/node.ts',
  'runtime/browser': 'src/runtime/browser.ts',
  'runtime/browser-worker': 'src/runtime/browser-worker.ts',
  'runtime/workers': 'src/runtime/workers.ts',
  'cli/main': 'src/cli/main.ts',
  'pglite-node-worker-entry': 'src/rowstore/pglite-node-worker-entry.ts',
  'direct-read-worker-entry': 'src/session/direct-ingest/read-worker-entry.ts',
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

// codecs.wasm from assembly/codecs/ and kernels.wasm from assembly/kernels/ (scalar only: no v128
// code yet, so no SIMD variant to choose between). Two modules rather than one: a runtime that only
// writes loads codecs.wasm alone; kernels.wasm also holds the decoders, so a query's columns are
// decoded and aggregated in one module. Each is rebuilt only when one of
// its sources is newer than its output: asc takes ~5 s of CPU.
{
  const { readdirSync, statSync, mkdirSync } = await import('node:fs');
  for (const name of ['codecs', 'kernels']) {
    const out = `dist/wasm/${name}.wasm`;
    // kernels.wasm compiles the codecs' decoders in (fused decode + aggregate), so it depends on both.
    const dirs = name === 'kernels' ? ['kernels', 'codecs'] : [name];
    const sources = dirs.flatMap((d) => readdirSync(`assembly/${d}`).map((f) => `assembly/${d}/${f}`));
    const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
    if (existsSync(out) && statSync(out).mtimeMs >= newest) continue;
    mkdirSync('dist/wasm', { recursive: true });
    const asc = await import('assemblyscript/asc');
    const { error, stderr } = await asc.main(
      [`assembly/${name}/index.ts`, '-O3', '--runtime', 'stub', '--noAssert', '--outFile', out],
      {},
    );
    if (error) {
      console.error(stderr.toString());
      throw error;
    }
  }
}

// A pre-initialised PostgreSQL cluster: new databases start from it instead of running initdb
// (about 4.5 s of CPU here, 7–19 s in a browser tab).
const template = 'dist/pgdata-template.tar.gz';
if (!existsSync(template)) {
  const { PGlite } = await import('@electric-sql/pglite');
  const { writeFile } = await import('node:fs/promises');
  const db = await PGlite.create('memory://');
  const blob = await db.dumpDataDir('gzip');
  await db.close();
  await writeFile(template, new Uint8Array(await blob.arrayBuffer()));
}
