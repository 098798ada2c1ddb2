/**
 * @module edge/buffer-rows
 * The edge's rows between their stored forms: a write buffer row (a JSON array in Durable Object
 * SQLite, bigints as strings) from and back to typed values, buffered rows into the columns a seal
 * encodes, and a decoded batch column's value back. PG_TYPES: the columnstore type of each edge
 * column type the batches hold.
 */
import { allocColumn, type Column, type PgType } from '../columnstore/columns.js';
import type { TableDef } from './catalog.js';
import { notAtEdge } from './expr.js';
import { typeLabel, type EdgeType, type Value } from './values.js';

export const PG_TYPES: Partial<Record<EdgeType, PgType>> = {
  bool: 'bool', int2: 'int2', int4: 'int4', int8: 'int8', float4: 'float4', float8: 'float8', numeric: 'numeric',
  text: 'text', varchar: 'varchar', timestamptz: 'timestamptz', timestamp: 'timestamp', date: 'date',
};

/** Buffer rows as JSON arrays; bigints (timestamps, int8) as strings, restored by column type. */
export function encodeRow(row: readonly Value[]): string {
  return JSON.stringify(row.map((v) => (typeof v === 'bigint' ? v.toString() : v)));
}

export function decodeRow(text: string, table: TableDef): Value[] {
  const raw = JSON.parse(text) as Value[];
  return table.columns.map((c, j) => {
    const v = raw[j] ?? null;
    if (v === null) return null;
    return c.type === 'timestamptz' || c.type === 'timestamp' || c.type === 'int8' ? BigInt(v as string) : v;
  });
}

/** Buffered rows (encodeRow's JSON) straight into columns, one row decoded at a time. */
export function rowsToColumns(table: TableDef, rows: readonly string[]): Column[] {
  const n = rows.length;
  const cols = table.columns.map((c) => {
    const pg = PG_TYPES[c.type];
    if (!pg) throw notAtEdge(`columns of type ${typeLabel(c.type)}`);
    return allocColumn(pg, n) as Column & { nulls: Uint8Array | null };
  });
  const big = table.columns.map((c) => c.type === 'timestamptz' || c.type === 'timestamp' || c.type === 'int8');
  const bool = table.columns.map((c) => c.type === 'bool');
  for (let i = 0; i < n; i++) {
    const raw = JSON.parse(rows[i]!) as Value[];
    for (let j = 0; j < cols.length; j++) {
      const v = raw[j] ?? null;
      const col = cols[j]!;
      if (v === null) {
        col.nulls ??= new Uint8Array((n + 7) >> 3);
        col.nulls[i >> 3]! |= 1 << (i & 7);
        continue;
      }
      (col.values as unknown as { [k: number]: unknown })[i] = big[j] ? BigInt(v as string) : bool[j] ? (v ? 1 : 0) : v;
    }
  }
  return cols;
}

export function columnValue(col: Column, i: number): Value {
  if (col.nulls && (col.nulls[i >> 3]! >> (i & 7)) & 1) return null;
  const v = (col.values as ArrayLike<unknown>)[i];
  if (col.type === 'bool') return v === 1;
  return v as Value;
}
