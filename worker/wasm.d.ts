// Wasm imports resolved by worker/build.mjs; wrangler's CompiledWasm rule makes each a compiled module.
declare module 'orbit:codecs.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
declare module 'orbit:kernels.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
