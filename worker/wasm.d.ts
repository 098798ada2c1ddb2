// Wasm imports resolved by worker/build.mjs; wrangler's CompiledWasm rule makes each a compiled module.
declare module 'orbit:codecs.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
declare module 'orbit:kernels.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
// Durable Object RPC base class (workerd built-in); only what worker/index.ts uses.
declare module 'cloudflare:workers' {
  export abstract class DurableObject<Env = unknown> {
    protected readonly ctx: { readonly storage: unknown; abort(reason?: string): void; blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T> };
    protected readonly env: Env;
    constructor(ctx: unknown, env: Env);
  }
}
