/**
 * @module columnstore/codecs
 * Column codecs of the columnstore: the self-describing column format and its two backends.
 */

// The column format: encode/decode one column of a batch, read its header.
export {
  decodeColumn,
  encodeColumn,
  readColumnHeader,
  textValues,
  type ColumnHeader,
  type ColumnInput,
  type ColumnValues,
  type DecodedColumn,
  type DecodedValues,
  type DecodeOptions,
} from './column.js';
export { Codec, ColumnKind, FORMAT_VERSION, MAX_VALUES } from './format.js';
export type { TextColumn } from './text.js';

// Backends: WebAssembly (fast path) and the plain-TypeScript reference (fallback, cross-check).
export type { CodecBackend, FloatValues, IntValues, RangeOp, StreamAt } from './backend.js';
export { WasmBackend } from './wasm-backend.js';
export { ReferenceBackend } from './reference/index.js';
