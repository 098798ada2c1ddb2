/**
 * @module columnstore/codecs/load-node
 * Node loader for codecs.wasm: finds `dist/wasm/codecs.wasm` (built by `npm run build`) from
 * either the sources or the bundles, and instantiates the WebAssembly backend.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { orbitError } from '../../errors.js';
import { WasmBackend } from './wasm-backend.js';

/** Path of codecs.wasm, searched upwards from this file (src/columnstore/codecs/ or dist/). */
export function codecsWasmPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    for (const candidate of [join(dir, 'dist/wasm/codecs.wasm'), join(dir, 'wasm/codecs.wasm')]) {
      if (existsSync(candidate)) return candidate;
    }
    dir = dirname(dir);
  }
  throw orbitError('undefined_file', 'dist/wasm/codecs.wasm not found', { hint: 'Run npm run build.' });
}

export async function loadCodecsNode(path = codecsWasmPath()): Promise<WasmBackend> {
  return WasmBackend.create(await readFile(path));
}
