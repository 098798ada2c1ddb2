/**
 * @module columnstore/kernels
 * Aggregation kernels over compressed batches and the query-level API on top of them.
 */

// Query level: partial aggregates of chunks, merging, final values.
export { aggregateChunk, aggregateChunks, rowTests, selectRows } from './aggregate.js';
export { anyMayOverflow, finalize, mergePartials, numericDivide, type AggState, type GroupPartial, type PartialStats, type Partials, type ResultRow } from './partials.js';
export { AggregateFn, resolveRowFilters, resolveSpec, type AggregateCall, type AggregateSpec, type Filter, type ResolvedAggregate, type ResolvedRowFilter, type RowFilter, type ResolvedSpec, type TimeBucketSpec } from './spec.js';

// Backends: WebAssembly (fast path) and the plain-TypeScript reference (fallback, cross-check).
export type { BucketParams, ColumnAggregates, EncodedColumn, FirstLast, FusedKernels, KernelBackend, KernelValues, SlotTable, TimeRange, ValueAggregates } from './backend.js';
export { isFused } from './backend.js';
export { WasmKernels } from './wasm-backend.js';
export { ReferenceKernels } from './reference.js';
