/**
 * @module columnstore/kernels/load-node
 * Node loader for kernels.wasm: finds `dist/wasm/kernels.wasm` (built by `npm run build`) from
 * either the sources or the bundles, and instantiates the WebAssembly backend.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { orbitError } from '../../errors.js';
import { WasmKernels } from './wasm-backend.js';

/** Path of kernels.wasm, searched upwards from this file (src/columnstore/kernels/ or dist/). */
export function kernelsWasmPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    for (const candidate of [join(dir, 'dist/wasm/kernels.wasm'), join(dir, 'wasm/kernels.wasm')]) {
      if (existsSync(candidate)) return candidate;
    }
    dir = dirname(dir);
  }
  throw orbitError('undefined_file', 'dist/wasm/kernels.wasm not found', { hint: 'Run npm run build.' });
}

export async function loadKernelsNode(path = kernelsWasmPath()): Promise<WasmKernels> {
  return WasmKernels.create(await readFile(path));
}
