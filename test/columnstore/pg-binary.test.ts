/**
 * Binary COPY against real PostgreSQL (PGlite): rows of every columnstore type, NULLs included, go
 * COPY TO → readCopyBinary → (batches →) writeCopyBinary → COPY FROM and come back equal; numeric
 * text matches PostgreSQL's output; our ordering matches PostgreSQL's ORDER BY.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from '../../src/columnstore/batch-format.js';
import { planBatches } from '../../src/columnstore/batch.js';
import { loadCodecsNode } from '../../src/columnstore/codecs/load-node.js';
import type { CodecBackend } from '../../src/columnstore/codecs/index.js';
import { rowComparator } from '../../src/columnstore/compare.js';
import { pgTypeOf, takeRows, type Column, type PgType } from '../../src/columnstore/columns.js';
import { readCopyBinary } from '../../src/columnstore/pg-binary.js';
import { CopyBinaryWriter, writeCopyBinary } from '../../src/columnstore/pg-binary-writer.js';
import type { PGliteRowStore } from '../../src/rowstore/pglite.js';
import { openTestRowStore } from '../support/row-store.js';
import { rowStrings } from './rows.js';

let store: PGliteRowStore;
let wasm: CodecBackend;

const COLUMNS: [string, string][] = [
  ['id', 'int4'],
  ['ts', 'timestamptz'],
  ['tsn', 'timestamp'],
  ['d', 'date'],
  ['i2', 'int2'],
  ['i8', 'int8'],
  ['f4', 'float4'],
  ['f8', 'float8'],
  ['b', 'bool'],
  ['t', 'text'],
  ['vc', 'varchar(20)'],
  ['ch', 'char(4)'],
  ['nm', 'name'],
  ['num', 'numeric'],
  ['u', 'uuid'],
  ['jb', 'jsonb'],
  ['js', 'json'],
  ['iv', 'interval'],
  ['ba', 'bytea'],
  ['arr', 'int4[]'],
];

const ROWS = `
  (1, '2024-01-01 00:00:00+00', '2024-01-01 12:34:56.789012', '2024-02-29', 1, 9223372036854775807, 1.5, 0.1, true, 'hello', 'vc', 'ab', 'nm',
   123456789.000100, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2, {"b": null}]}', '{"x":  1 }', '1 day 02:03:04', '\\x00ff10', '{1,NULL,3}'),
  (2, 'infinity', '-infinity', 'infinity', -32768, -9223372036854775808, 'NaN', '-0', false, 'é\u{1F600}', '', '', '', 'NaN',
   '00000000-0000-0000-0000-000000000000', '[]', '""', '-1 mon', '\\x', '{}'),
  (3, '-infinity', 'infinity', '-infinity', 32767, 0, '-Infinity', 'Infinity', false, 'ünïcode', 'x', 'abcd', 'x', '-0.00000000000000000001',
   'ffffffff-ffff-ffff-ffff-ffffffffffff', 'null', '{}', '0', '\\xdeadbeef', '{{1,2},{3,4}}'),
  (4, '1970-01-01 00:00:00.000001+00', '2000-01-01', '1999-12-31', 0, 1, 3.4028235e38, 1e-310, true, '', 'b', 'c', 'n', 'Infinity',
   '123e4567-e89b-12d3-a456-426614174000', '{"k": 1.50}', 'true', '100 years', '\\x00', '{-1}'),
  (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (6, '2024-06-01 10:00:00+02', '2024-06-01', '2024-06-01', 5, -5, -0, 2.5, NULL, 'x', NULL, 'zz', 'y', '-Infinity',
   NULL, '{"b": 2, "a": 1}', NULL, NULL, NULL, NULL),
  (7, '2024-06-01 10:00:00+02', NULL, '2024-06-01', 5, -5, 1, 2.5, true, 'x', 'w', 'zz', 'y', '0.000',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1', '[1,2]', '1 sec', '\\x01', '{}')`;

const list = COLUMNS.map(([n]) => n).join(', ');
const types = (): PgType[] => COLUMNS.map(([, t]) => pgTypeOf(t));

async function copyOut(sql: string): Promise<Uint8Array> {
  const r = await store.db.query(`COPY (${sql}) TO '/dev/blob' WITH (FORMAT binary)`);
  return new Uint8Array(await r.blob!.arrayBuffer());
}

async function copyIn(table: string, bytes: Uint8Array): Promise<void> {
  await store.db.query(`COPY ${table} FROM '/dev/blob' WITH (FORMAT binary)`, [], { blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) });
}

/** Rows of a table as PostgreSQL prints them, sorted by id. */
async function text(table: string): Promise<string[]> {
  const r = await store.db.query<{ r: string }>(`SELECT (${list})::text AS r FROM ${table} ORDER BY id`);
  return r.rows.map((x) => x.r);
}

beforeAll(async () => {
  store = await openTestRowStore();
  wasm = await loadCodecsNode();
  await store.db.exec(`SET timezone = 'UTC'; CREATE TABLE src (${COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')}); INSERT INTO src VALUES ${ROWS};`);
});

afterAll(async () => {
  await store?.close();
});

describe('binary COPY', () => {
  it('reads every type and writes it back unchanged', async () => {
    const columns = readCopyBinary(await copyOut(`SELECT ${list} FROM src`), types());
    expect(columns[0]!.values).toEqual(Int32Array.of(1, 2, 3, 4, 5, 6, 7));
    expect(columns[COLUMNS.findIndex(([n]) => n === 'num')]!.values.slice(0, 4)).toEqual(['123456789.000100', 'NaN', '-0.00000000000000000001', 'Infinity']);
    expect(columns[1]!.values[1]).toBe((1n << 63n) - 1n);
    expect(columns[COLUMNS.findIndex(([n]) => n === 'jb')]!.values[0]).toBe('{"a": [1, 2, {"b": null}]}');
    expect(columns.at(-1)!.type).toBe('opaque');
    await store.db.exec('CREATE TABLE back (LIKE src)');
    await copyIn('back', writeCopyBinary(columns));
    expect(await text('back')).toEqual(await text('src'));
  });

  it('round-trips through batches (segmentby, orderby, NULLs) back into PostgreSQL', async () => {
    const columns = readCopyBinary(await copyOut(`SELECT ${list} FROM src`), types());
    const names = COLUMNS.map(([n]) => n);
    const planned = planBatches({ names, columns }, { segmentBy: ['i2'], orderBy: [{ column: 'ts', desc: true }], timeColumn: 'ts', batchRows: 2 });
    expect(planned.length).toBeGreaterThan(3);
    await store.db.exec('CREATE TABLE again (LIKE src)');
    for (const b of planned) {
      const rows = decodeBatch(wasm, encodeBatch(wasm, b.columns), names, types());
      await copyIn('again', writeCopyBinary(rows.columns));
    }
    expect(await text('again')).toEqual(await text('src'));
  });

  it('writes several column sets under one header, repeated text values copied, as one COPY', async () => {
    const columns = readCopyBinary(await copyOut(`SELECT ${list} FROM src`), types());
    const names = COLUMNS.map(([n]) => n);
    const planned = planBatches({ names, columns }, { segmentBy: ['i2'], orderBy: [{ column: 'ts', desc: true }], timeColumn: 'ts', batchRows: 2 });
    // A tiny first buffer: the repeated values' offsets must survive its growth.
    const writer = new CopyBinaryWriter(64);
    for (const b of planned) writer.append(decodeBatch(wasm, encodeBatch(wasm, b.columns), names, types()).columns);
    // Text columns with runs of equal values (a constant tag) and alternating ones.
    const textColumn = (vs: Array<string | null>): Column => ({ type: 'text', values: vs.map((v) => v ?? ''), nulls: nullsOf(vs) }) as Column;
    const runs = readCopyBinary(writeCopyBinary([textColumn(['a', 'a', 'é☃', 'é☃', 'é☃', null, 'é☃', '', '', 'a'])]), ['text']);
    expect(runs[0]!.values).toEqual(['a', 'a', 'é☃', 'é☃', 'é☃', '', 'é☃', '', '', 'a']);
    expect(runs[0]!.nulls).toEqual(nullsOf(['a', 'a', 'é☃', 'é☃', 'é☃', null, 'é☃', '', '', 'a']));
    await store.db.exec('CREATE TABLE once (LIKE src)');
    await copyIn('once', writer.finish());
    expect(await text('once')).toEqual(await text('src'));
    expect(() => writer.append(columns)).toThrow();
  });

  it('appends the selected rows of a batch, with constant columns of one value per selected row', async () => {
    const columns = readCopyBinary(await copyOut(`SELECT ${list} FROM src`), types());
    const n = columns[0]!.values.length;
    const selection = Uint32Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 1);
    const tag: Column = { type: 'text', values: Array.from(selection, () => 'same tag'), nulls: null } as Column;
    const picked = new CopyBinaryWriter(64);
    picked.append([...columns, tag], selection);
    const expected = writeCopyBinary([...columns.map((c) => takeRows(c, selection)), tag]);
    expect(picked.finish()).toEqual(expected);
    // Every row selected: as without a selection.
    const every = new CopyBinaryWriter();
    every.append(columns, Uint32Array.from({ length: n }, (_, i) => i));
    expect(every.finish()).toEqual(writeCopyBinary(columns));
    expect(() => new CopyBinaryWriter().append(columns, Uint32Array.of(0, n))).toThrow();
    expect(() => new CopyBinaryWriter().append([columns[0]!, tag], Uint32Array.of(0))).toThrow();
  });

  it('prints numeric exactly as PostgreSQL does', async () => {
    const values = ['0', '0.000', '-0.0', '1', '10000', '9999.9999', '0.0001', '0.00001', '-123.456', '1e20', '1.5e-7', '100000000.00000001', 'NaN', 'Infinity', '-Infinity', '12345678901234567890.123456789012345678901234567890'];
    await store.db.exec(`CREATE TABLE nums (i int, n numeric); INSERT INTO nums VALUES ${values.map((v, i) => `(${i}, '${v}')`).join(', ')}`);
    const [, n] = readCopyBinary(await copyOut('SELECT i, n FROM nums ORDER BY i'), ['int4', 'numeric']) as [Column, Extract<Column, { type: 'numeric' }>];
    const pg = await store.db.query<{ n: string }>('SELECT n::text AS n FROM nums ORDER BY i');
    expect(n.values).toEqual(pg.rows.map((r) => r.n));
    await store.db.exec('CREATE TABLE nums2 (i int, n numeric)');
    await copyIn('nums2', writeCopyBinary([{ type: 'int4', values: Int32Array.from(values, (_, i) => i), nulls: null }, n]));
    const back = await store.db.query<{ same: boolean }>('SELECT bool_and(a.n::text = b.n::text) AS same FROM nums a JOIN nums2 b USING (i)');
    expect(back.rows[0]!.same).toBe(true);
  });

  it('orders like PostgreSQL ORDER BY for every orderable type (text in C collation)', async () => {
    const orderable = COLUMNS.filter(([n, t]) => !['jb', 'js', 'iv', 'ba', 'arr', 'id'].includes(n) && t !== 'x');
    const names = COLUMNS.map(([n]) => n);
    const columns = readCopyBinary(await copyOut(`SELECT ${list} FROM src`), types());
    for (const [name] of orderable) {
      for (const [desc, nullsFirst] of [
        [false, false],
        [true, true],
        [false, true],
        [true, false],
      ] as const) {
        const dir = `${desc ? 'DESC' : 'ASC'} NULLS ${nullsFirst ? 'FIRST' : 'LAST'}`;
        const collate = ['t', 'vc', 'ch', 'nm'].includes(name) ? ' COLLATE "C"' : '';
        const pg = await store.db.query<{ v: string }>(`SELECT ${name}::text AS v FROM src ORDER BY ${name}${collate} ${dir}`);
        const col = columns[names.indexOf(name)]!;
        const cmp = rowComparator({ column: col, desc, nullsFirst });
        const idx = Array.from({ length: 7 }, (_, i) => i).sort(cmp);
        const textOf = await store.db.query<{ v: string | null }>(`SELECT ${name}::text AS v FROM src ORDER BY id`);
        expect(idx.map((i) => textOf.rows[i]!.v), `${name} ${dir}`).toEqual(pg.rows.map((r) => r.v));
      }
    }
  });

  it('refuses malformed input with 22P04', () => {
    const ok = writeCopyBinary([{ type: 'int4', values: Int32Array.of(1), nulls: null }]);
    expect(rowStrings({ names: ['a'], columns: readCopyBinary(ok, ['int4']) })).toEqual(['"1"']);
    for (const bad of [ok.subarray(0, 10), ok.subarray(0, ok.length - 1), Uint8Array.from([...ok, 0])]) {
      expect(() => readCopyBinary(bad, ['int4'])).toThrow(expect.objectContaining({ code: '22P04' }));
    }
    expect(() => readCopyBinary(ok, ['int8'])).toThrow(expect.objectContaining({ code: '22P04' }));
    expect(() => readCopyBinary(ok, ['int4', 'int4'])).toThrow(expect.objectContaining({ code: '22P04' }));
  });
});

function nullsOf(vs: Array<string | null>): Uint8Array | undefined {
  if (!vs.includes(null)) return undefined;
  const out = new Uint8Array((vs.length + 7) >> 3);
  vs.forEach((v, i) => {
    if (v === null) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}
