/**
 * @module worker/shims/libpg-query-glue
 * Stands in for libpg-query's emscripten glue (`libpg-query/wasm/libpg-query.js`) in the workerd bundle;
 * worker/build.mjs swaps it in for imports from libpg-query's own `wasm/index.js`, so libpg-query's API
 * (`loadModule`, `parseSync`, ...) runs unchanged. Two workerd facts make the swap necessary:
 *
 * - workerd defines `WorkerGlobalScope` but no `location`, so the glue takes its web-worker path and its
 *   synchronous prologue reads `self.location.href` (TypeError). We define a placeholder `location` only
 *   while the factory's prologue runs (the factory is async: everything before its first `await` runs
 *   inside the call) and remove it right after, so no other code can observe it.
 * - workerd refuses to compile wasm from bytes at run time, and without a hook the glue would fetch and
 *   compile the .wasm. `instantiateWasm` instead instantiates the `WebAssembly.Module` that the Worker
 *   upload already holds (wrangler's default CompiledWasm rule for `*.wasm` imports).
 */
import createPgQueryModule from 'libpg-query/wasm/libpg-query.js';
// worker/build.mjs resolves this to ./libpg-query.wasm beside worker.js: the copy with the 34 MiB minimum.
import pgQueryWasm from 'orbit:libpg-query.wasm';

/** Any absolute URL will do: with `instantiateWasm` set, the glue never loads anything relative to it. */
const PLACEHOLDER_LOCATION = { href: 'file:///libpg-query/' };

export default function createPgQueryModuleForWorkerd(options = {}) {
  let failInstantiate;
  const instantiateFailed = new Promise((_, reject) => {
    failInstantiate = reject;
  });
  const ownLocation = Object.getOwnPropertyDescriptor(globalThis, 'location');
  if (!ownLocation) globalThis.location = PLACEHOLDER_LOCATION;
  let ready;
  try {
    ready = createPgQueryModule({
      ...options,
      instantiateWasm(imports, receiveInstance) {
        // `instantiate(Module)` resolves to an Instance (not `{ module, instance }` as for bytes).
        WebAssembly.instantiate(pgQueryWasm, imports).then((instance) => {
          // The parser's memory only grows; src/sql/parser.ts parserMemoryBytes() reports it for /stats.
          // (emscripten minifies export names: find the memory by kind, not by name).
          globalThis[Symbol.for('orbit.parserMemory')] = Object.values(instance.exports).find((e) => e instanceof WebAssembly.Memory);
          receiveInstance(instance);
        }, failInstantiate);
        return {}; // emscripten's "instantiation is async" answer
      },
    });
  } finally {
    if (!ownLocation) delete globalThis.location;
  }
  // The glue waits for `receiveInstance` forever; surface an instantiate failure instead of hanging.
  return Promise.race([ready, instantiateFailed]);
}
