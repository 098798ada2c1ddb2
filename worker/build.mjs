/**
 * @module worker/build
 * Pre-bundles the Worker (worker/index.ts) for workerd with esbuild, before wrangler bundles it again.
 *
 * Two things in libpg-query do not work in workerd as shipped (see shared/research/edge_probe.md §1):
 * - its emscripten glue (`wasm/libpg-query.js`) reads `self.location.href` and would fetch and compile the
 *   .wasm from bytes, which workerd forbids. A plugin swaps the glue, for imports from libpg-query's own
 *   `wasm/` folder only, for worker/shims/libpg-query-glue.js, which instantiates a pre-compiled module.
 * - the .wasm declares a 128 MiB minimum memory (2048 pages), the whole 128 MB isolate budget. We write a
 *   copy with a smaller minimum to worker/dist/ (node_modules is never touched). The module still grows
 *   its memory on demand up to its declared maximum.
 *
 * Output: worker/dist/worker.js (imports `./libpg-query.wasm`, `./codecs.wasm` and `./kernels.wasm`, which
 * wrangler's default CompiledWasm rule turns into `WebAssembly.Module`s) and those three .wasm files.
 *
 * Run with `npm run build:worker`; `node worker/build.mjs --json` prints the summary as JSON.
 */
import { build } from 'esbuild';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const workerDir = dirname(fileURLToPath(import.meta.url));
const distDir = join(workerDir, 'dist');
const glueShim = join(workerDir, 'shims', 'libpg-query-glue.js');
const require = createRequire(import.meta.url);
const libpgQueryWasmDir = dirname(require.resolve('libpg-query/wasm/libpg-query.wasm'));

/** The patched parser wasm, written next to worker.js; the shim's `orbit:libpg-query.wasm` import resolves to it. */
const WASM_FILE = 'libpg-query.wasm';

/**
 * Minimum memory of the patched parser, in 64 KiB pages: 544 = 34 MiB. The module needs 527 pages before
 * its first malloc (a 32 MiB stack sits above 0.91 MiB of data; `__stack_pointer` starts at 34,515,008),
 * and the build checks that again for every libpg-query version. Measured in workerd: 40.8 MiB after
 * parsing a 1,000-row INSERT (edge_probe.md §1). The unpatched module starts at 2048 pages (128 MiB).
 */
export const PARSER_MIN_PAGES = 544;
const PAGE = 65536;

/** Section ids of the WebAssembly binary format (core spec §5.5.2). */
const Section = { import: 2, memory: 5, global: 6, data: 11 };

/** Reads an unsigned LEB128 at `pos`; returns the value and its encoded length in bytes. */
function readU32(bytes, pos) {
  let value = 0;
  let shift = 0;
  let length = 0;
  for (;;) {
    const byte = bytes[pos + length++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return { value, length };
    if (length === 5) throw new Error(`wasm: LEB128 at byte ${pos} is longer than 5 bytes`);
  }
}

/** Reads a signed LEB128 (i32.const operands). */
function readS32(bytes, pos) {
  let value = 0;
  let shift = 0;
  let length = 0;
  let byte;
  do {
    byte = bytes[pos + length++];
    value |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  if (shift < 32 && byte & 0x40) value |= -1 << shift;
  return { value, length };
}

/**
 * Writes `value` as an unsigned LEB128 of exactly `length` bytes. Padding with 0x80 continuation bytes is
 * valid wasm (a u32 may take up to 5 bytes), so a smaller number fits where the old one was and no
 * section size has to change.
 */
function writeU32Padded(bytes, pos, value, length) {
  if (value >= 2 ** (7 * length)) throw new Error(`wasm: ${value} does not fit in ${length} LEB128 bytes`);
  for (let i = 0; i < length; i++) {
    const low = value % 128;
    value = Math.floor(value / 128);
    bytes[pos + i] = i < length - 1 ? low | 0x80 : low;
  }
}

/** Lists the top-level sections: id, offset of the content, and content size. */
function sections(bytes) {
  const magic = bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (!magic || bytes[4] !== 1) throw new Error('wasm: not a version-1 WebAssembly binary');
  const list = [];
  for (let pos = 8; pos < bytes.length; ) {
    const id = bytes[pos];
    const size = readU32(bytes, pos + 1);
    const start = pos + 1 + size.length;
    list.push({ id, start, size: size.value });
    pos = start + size.value;
  }
  return list;
}

/** Skips a constant expression (global init, data offset) and returns its i32.const value, if that is all it is. */
function readConstExpr(bytes, pos) {
  let i32;
  if (bytes[pos] === 0x41) {
    const v = readS32(bytes, pos + 1);
    i32 = v.value;
    pos += 1 + v.length;
  }
  // Anything else (global.get, extended const ops) only occurs in modules we do not ship; walk to `end`.
  while (bytes[pos] !== 0x0b) pos++;
  return { i32, end: pos + 1 };
}

/**
 * Describes the module's own (not imported) memory: where its minimum is encoded, the limits, and how many
 * pages the module needs at instantiation (end of active data segments, initial `__stack_pointer`).
 */
export function inspectMemory(bytes) {
  const all = sections(bytes);
  const memory = all.find((s) => s.id === Section.memory);
  if (!memory) throw new Error('wasm: no memory section (memory is imported?)');
  let pos = memory.start;
  const count = readU32(bytes, pos);
  if (count.value !== 1) throw new Error(`wasm: expected one memory, found ${count.value}`);
  pos += count.length;
  const flags = bytes[pos++];
  if (flags > 1) throw new Error(`wasm: memory limits flag 0x${flags.toString(16)} (shared or memory64) is not handled`);
  const min = readU32(bytes, pos);
  const minOffset = pos;
  const max = flags === 1 ? readU32(bytes, pos + min.length).value : undefined;

  let highest = 0;
  const globals = all.find((s) => s.id === Section.global);
  if (globals) {
    let p = globals.start;
    const n = readU32(bytes, p);
    p += n.length;
    for (let i = 0; i < n.value; i++) {
      p += 2; // valtype, mutability
      const expr = readConstExpr(bytes, p);
      // Emscripten's only mutable i32 global is __stack_pointer; the stack grows down from it.
      if (expr.i32 !== undefined && expr.i32 > highest) highest = expr.i32;
      p = expr.end;
    }
  }
  const data = all.find((s) => s.id === Section.data);
  if (data) {
    let p = data.start;
    const n = readU32(bytes, p);
    p += n.length;
    for (let i = 0; i < n.value; i++) {
      const kind = readU32(bytes, p);
      p += kind.length;
      let offset;
      if (kind.value === 2) p += readU32(bytes, p).length; // explicit memory index
      if (kind.value !== 1) {
        const expr = readConstExpr(bytes, p);
        offset = expr.i32;
        p = expr.end;
      }
      const size = readU32(bytes, p);
      p += size.length + size.value;
      if (offset !== undefined) highest = Math.max(highest, offset + size.value);
    }
  }
  return {
    minPages: min.value,
    maxPages: max,
    minOffset,
    minLength: min.length,
    requiredPages: Math.ceil(highest / PAGE),
  };
}

/** Returns a copy of `bytes` whose memory minimum is `pages`; refuses a minimum the module cannot start with. */
export function patchMemoryMinimum(bytes, pages) {
  const info = inspectMemory(bytes);
  if (pages < info.requiredPages) {
    throw new Error(`wasm: ${pages} pages is below the ${info.requiredPages} the module needs for its data and stack`);
  }
  if (info.maxPages !== undefined && pages > info.maxPages) throw new Error(`wasm: ${pages} pages exceeds the maximum ${info.maxPages}`);
  const out = new Uint8Array(bytes);
  writeU32Padded(out, info.minOffset, pages, info.minLength);
  return { bytes: out, before: info, after: inspectMemory(out) };
}

/** Orbit's codec module (built by `npm run build` into dist/wasm/), shipped next to worker.js as a compiled module. */
const CODECS_FILE = 'codecs.wasm';
const codecsWasm = join(workerDir, '..', 'dist', 'wasm', CODECS_FILE);
/** The aggregation kernels (assembly/kernels), shipped the same way. */
const KERNELS_FILE = 'kernels.wasm';
const kernelsWasm = join(workerDir, '..', 'dist', 'wasm', KERNELS_FILE);

/** esbuild plugin: libpg-query's glue → shim, the shim's wasm → `./libpg-query.wasm`, `node:*` left alone. */
const libpgQueryForWorkerd = {
  name: 'libpg-query-for-workerd',
  setup(b) {
    b.onResolve({ filter: /^\.\/libpg-query\.js$/ }, (args) =>
      dirname(args.importer) === libpgQueryWasmDir ? { path: glueShim } : undefined,
    );
    b.onResolve({ filter: /^orbit:libpg-query\.wasm$/ }, () => ({ path: `./${WASM_FILE}`, external: true }));
    b.onResolve({ filter: /^orbit:codecs\.wasm$/ }, () => ({ path: `./${CODECS_FILE}`, external: true }));
    b.onResolve({ filter: /^orbit:kernels\.wasm$/ }, () => ({ path: `./${KERNELS_FILE}`, external: true }));
    // Durable Object RPC base classes (the shard objects extend DurableObject).
    b.onResolve({ filter: /^cloudflare:/ }, (args) => ({ path: args.path, external: true }));
    // The glue's Node branch `require("node:fs")` becomes a `__require` that workerd never reaches.
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * Builds worker/dist/ (or `outDir` from `entry`: the workerd tests build a fixture Worker that adds test-only
 * Durable Objects); returns sizes and the memory patch it applied.
 */
export async function buildWorker({ entry = join(workerDir, 'index.ts'), outDir = distDir } = {}) {
  const started = performance.now();
  await mkdir(outDir, { recursive: true });
  // Needs `npm run build` first (asc compiles assembly/codecs/).
  await writeFile(join(outDir, CODECS_FILE), await readFile(codecsWasm));
  await writeFile(join(outDir, KERNELS_FILE), await readFile(kernelsWasm));
  const original = await readFile(join(libpgQueryWasmDir, WASM_FILE));
  const patched = patchMemoryMinimum(original, PARSER_MIN_PAGES);
  // Compiling proves the edit kept the binary valid before anything else runs it.
  await WebAssembly.compile(patched.bytes);
  await writeFile(join(outDir, WASM_FILE), patched.bytes);

  const result = await build({
    entryPoints: [entry],
    outfile: join(outDir, 'worker.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    plugins: [libpgQueryForWorkerd],
    metafile: true,
    logLevel: 'warning',
  });
  const shimUsed = Object.keys(result.metafile.inputs).some((p) => p.endsWith('shims/libpg-query-glue.js'));
  if (!shimUsed) throw new Error('build: libpg-query glue was not swapped (did libpg-query move wasm/libpg-query.js?)');
  const worker = join(outDir, 'worker.js');
  return {
    worker,
    workerBytes: (await stat(worker)).size,
    wasm: join(outDir, WASM_FILE),
    wasmBytes: patched.bytes.length,
    memory: {
      sectionMinOffset: patched.before.minOffset,
      minPagesBefore: patched.before.minPages,
      minPagesAfter: patched.after.minPages,
      maxPages: patched.after.maxPages,
      requiredPages: patched.after.requiredPages,
    },
    ms: Math.round(performance.now() - started),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const summary = await buildWorker({ entry: arg('--entry'), outDir: arg('--outdir') });
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const m = summary.memory;
    console.log(
      `worker/dist/worker.js ${summary.workerBytes} B, libpg-query.wasm ${summary.wasmBytes} B; ` +
        `memory min ${m.minPagesBefore} → ${m.minPagesAfter} pages (LEB at byte ${m.sectionMinOffset}, ` +
        `needs ${m.requiredPages}, max ${m.maxPages}); ${summary.ms} ms`,
    );
  }
}
