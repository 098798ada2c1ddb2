/**
 * The reader thread's id mode (session/direct-ingest/read.ts): pieces read as interner entry numbers and
 * turned back into rows on the main thread give exactly the rows the main thread's reader gives, and
 * what id mode cannot read goes back to the main thread; the Node reader thread does the same.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Rows } from '../../src/columnstore/columns.js';
import type { CopyFormat } from '../../src/session/copy-in.js';
import { NodeReaderThread } from '../../src/session/direct-ingest/read-node.js';
import { PieceReader } from '../../src/session/direct-ingest/read.js';
import { joinParts, ThreadDictionaries, type BufferedPart, type EncodedFlush, type EncodeRequest, type ThreadPiece, type ThreadValues } from '../../src/session/direct-ingest/threads.js';
import { requestBuffers } from '../../src/session/direct-ingest/encode.js';
import { encodeBatches } from '../../src/columnstore/store.js';
import { planBatches } from '../../src/columnstore/batch.js';
import { encodeBatch } from '../../src/columnstore/batch-format.js';
import { ReferenceBackend } from '../../src/columnstore/codecs/index.js';
import type { DirectTarget } from '../../src/session/direct-ingest/target.js';

const column = (name: string, type: string, notNull = false) => ({ name, type, typeOid: 0, formatted: type, notNull, hasDefault: false, insertable: true }) as DirectTarget['columns'][number];
const target: DirectTarget = {
  hypertableId: 1,
  schema: 'public',
  name: 't',
  columns: [column('time', 'timestamptz', true), column('host', 'text'), column('v', 'float8'), column('region', 'varchar')],
  timeColumn: 'time',
  interval: 1n,
  settings: { segmentBy: ['host'], orderBy: [{ column: 'time', desc: true }], timeColumn: 'time' },
  utc: true,
  utf8: true,
  stageable: true,
};
const csv: CopyFormat = { kind: 'csv', quote: 0x22, escape: 0x22, header: false, headerMatch: false, delimiter: 0x2c, nullString: '' };
const text: CopyFormat = { kind: 'text', quote: 0x22, escape: -1, header: false, headerMatch: false, delimiter: 0x09, nullString: '\\N' };
const bytes = (s: string) => new TextEncoder().encode(s);
const plain = (rows: Rows | undefined) => rows && rows.columns.map((c) => ({ values: Array.from(c.values as ArrayLike<unknown>), nulls: c.nulls ? Array.from(c.nulls) : null }));

/** The same pieces through the main thread's reader and through id mode + dictionaries. */
function both(format: CopyFormat, pieces: string[]) {
  const main = new PieceReader(format, [0, 1, 2, 3], target);
  const ids = new PieceReader(format, [0, 1, 2, 3], target, true);
  const dicts = new ThreadDictionaries(target);
  return pieces.map((p, i) => {
    const expected = main.parse(bytes(p), i === 0);
    const piece = ids.readIds(bytes(p), i === 0);
    const got = dicts.rows(piece);
    return { expected, got, fellBack: piece.columns === undefined };
  });
}

describe('direct COPY id mode', () => {
  it('gives the rows the main reader gives: repeated and new tags, NULLs, non-ASCII, over several pieces', () => {
    const results = both(csv, [
      '2024-01-01T00:00:00Z,host_1,1.5,eu\n2024-01-01T00:00:10Z,host_2,,\n2024-01-01T00:00:20Z,,2.25,eu\n',
      '2024-01-01T00:00:30Z,host_2,-0.5,eu\n2024-01-01T00:00:40Z,hôst_ü,NaN,us-east-1\n2024-01-01T00:00:50Z,host_1,Infinity,eu\n',
    ]);
    for (const r of results) {
      expect(r.fellBack).toBe(false);
      expect(r.expected).toBeDefined();
      expect(plain(r.got)).toEqual(plain(r.expected));
    }
    expect((results[1]!.got!.columns[1]!.values as string[])[1]).toBe('hôst_ü');
  });

  it('leaves to the main thread what only the string parsers read, and keeps later pieces right', () => {
    const results = both(csv, [
      '2024-01-01T00:00:00Z,host_1,1,eu\n',
      '2024-01-01T00:00:10Z,"host,quoted",2,eu\n2024-01-01T00:00:20Z,host_3,3,ap\n',
      '2024-01-01T00:00:30Z,"",4,ap\n',
      '2024-01-01T00:00:40Z,host_3,5,ap\n2024-01-01T00:00:50Z,host_4,6,eu\n',
    ]);
    expect(results.map((r) => r.fellBack)).toEqual([false, true, true, false]);
    // The main thread reads the pieces id mode gave back; the dictionaries still hold every string.
    expect(results[1]!.expected).toBeDefined();
    expect(plain(results[3]!.got)).toEqual(plain(results[3]!.expected));
  });

  it('tries the tag seen with the row\'s first tag last time, and reads the field whenever it differs', () => {
    // Rows in rounds (host after host), then hosts whose region changes, regions that are prefixes
    // of others ('eu' / 'eu-west'), NULL hosts and regions, a region at the end of a piece without
    // a newline, and a guess followed by a quote (the row goes to the main thread).
    const round = (regions: string[]) => ['h1', 'h2', 'h3'].map((h, i) => `2024-01-01T00:00:0${i}Z,${h},${i},${regions[i]}\n`).join('');
    const results = both(csv, [
      round(['eu', 'us', 'ap']) + round(['eu', 'us', 'ap']),
      round(['eu-west', 'u', 'ap']) + round(['eu', 'us-east', '']) + '2024-01-01T00:00:09Z,,1,eu\n2024-01-01T00:00:09Z,,2,ap\n',
      round(['eu', 'us', 'ap']) + '2024-01-01T00:00:09Z,h1,1,eu',
      '2024-01-01T00:00:09Z,h1,1,"eu"\n',
      round(['ap', 'eu', 'us']),
    ]);
    expect(results.map((r) => r.fellBack)).toEqual([false, false, false, true, false]);
    for (const r of results.filter((x) => !x.fellBack)) expect(plain(r.got)).toEqual(plain(r.expected));
    expect((results[1]!.got!.columns[3]!.values as string[]).slice(0, 6)).toEqual(['eu-west', 'u', 'ap', 'eu', 'us-east', '']);
    expect((results[4]!.got!.columns[3]!.values as string[])).toEqual(['ap', 'eu', 'us']);
  });

  it('reads text format with \\N, and falls back on escapes', () => {
    const results = both(text, ['2024-01-01 00:00:00+00\th\t1\t\\N\n', '2024-01-01 00:00:01+00\ta\\tb\t2\tx\n']);
    expect(results[0]!.fellBack).toBe(false);
    expect(plain(results[0]!.got)).toEqual(plain(results[0]!.expected));
    expect(results[1]!.fellBack).toBe(true);
  });

  it('reads columns by kind through array growth: timestamp, timestamptz, float8, and text past the interner\'s first table', () => {
    const t2: DirectTarget = { ...target, columns: [column('ts', 'timestamp'), column('tag', 'text'), column('v', 'float8'), column('at', 'timestamptz')], timeColumn: 'ts' };
    // A long first row makes the row estimate short, so the columns grow while the piece is read;
    // 3,000 distinct tags grow the interner's entry arrays (512 at first).
    const first = `2024-03-10 01:59:59.5,${'x'.repeat(3000)},1e3,2024-03-10T01:59:59.999999-08:00\n`;
    const lines = Array.from({ length: 6000 }, (_, i) => `2024-03-10 ${String(i % 24).padStart(2, '0')}:00:0${i % 10},t${i % 3000},${(i % 7) - 3}.${i % 100},2024-03-1${i % 10}T00:00:00+0${i % 10}\n`);
    const data = bytes(first + lines.join(''));
    const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n - 946_684_800_000_000n;
    const expected = [
      [micros('2024-03-10T01:59:59.5Z'), ...lines.map((_, i) => micros(`2024-03-10T${String(i % 24).padStart(2, '0')}:00:0${i % 10}Z`))],
      ['x'.repeat(3000), ...lines.map((_, i) => `t${i % 3000}`)],
      [1000, ...lines.map((_, i) => Number(`${(i % 7) - 3}.${i % 100}`))],
      [micros('2024-03-10T01:59:59.999Z') + 999n + 8n * 3_600_000_000n, ...lines.map((_, i) => micros(`2024-03-1${i % 10}T00:00:00Z`) - BigInt(i % 10) * 3_600_000_000n)],
    ];
    const main = new PieceReader(csv, [0, 1, 2, 3], t2).parse(data, true);
    const ids = new PieceReader(csv, [0, 1, 2, 3], t2, true);
    const viaIds = new ThreadDictionaries(t2).rows(ids.readIds(data, true));
    for (const rows of [main, viaIds]) expect(rows!.columns.map((c) => Array.from(c.values as ArrayLike<unknown>))).toEqual(expected);
  });

  const thread = new NodeReaderThread();
  afterAll(() => thread.close());

  it('holds its columns in shared buffers, reused once given back, with nothing of the earlier piece left under NULLs', () => {
    const ids = new PieceReader(csv, [0, 1, 2, 3], target, true);
    const dicts = new ThreadDictionaries(target);
    const full = Array.from({ length: 200 }, (_, i) => `2024-01-01T00:00:${String(i % 60).padStart(2, '0')}Z,host_${i % 7},${i}.25,eu\n`).join('');
    const sparse = Array.from({ length: 150 }, (_, i) => `2024-01-02T00:00:${String(i % 60).padStart(2, '0')}Z,${i % 2 ? '' : 'host_1'},${i % 3 ? '' : '7.5'},\n`).join('');
    const first = ids.readIds(bytes(full), true);
    const buffer = (first.columns![0]!.values as BigInt64Array).buffer;
    // Shared, not moved: a moved ArrayBuffer counts as new external memory in the isolate it reaches.
    expect(buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(new Set(first.columns!.map((c) => (c.values as Float64Array).buffer)).size).toBe(1);
    dicts.idRows(first);
    ids.recycle([buffer as SharedArrayBuffer]);
    const second = ids.readIds(bytes(sparse), false);
    expect((second.columns![2]!.values as Float64Array).buffer).toBe(buffer);
    // The same columns as a reader with new arrays (same pieces, so the same entry numbers).
    const fresh = new PieceReader(csv, [0, 1, 2, 3], target);
    fresh.parse(bytes(full), true);
    const raw = (p: ThreadPiece) => p.columns!.map((c) => ({ values: Array.from(c.values as ArrayLike<unknown>), nulls: c.nulls && Array.from(c.nulls) }));
    const control = new PieceReader(csv, [0, 1, 2, 3], target, true);
    control.readIds(bytes(full), true);
    const expected = control.readIds(bytes(sparse), false);
    expect((expected.columns![2]!.values as Float64Array).buffer).not.toBe(buffer);
    expect(raw(second)).toEqual(raw(expected));
    expect(plain(dicts.rows(second))).toEqual(plain(fresh.parse(bytes(sparse), false)));
    // NULL slots read as zero, as in a new array.
    expect(Array.from(second.columns![2]!.values as Float64Array).filter((_, i) => i % 3).every((v) => v === 0)).toBe(true);
  });

  it('the Node reader thread answers in order with the same rows', async () => {
    const pieces = Array.from({ length: 6 }, (_, p) =>
      Array.from({ length: 500 }, (_, i) => `2024-01-0${1 + (p % 3)}T00:00:${String(i % 60).padStart(2, '0')}Z,host_${(i * 7 + p) % 50},${i / 8},${i % 5 ? 'eu' : ''}\n`).join(''),
    );
    const reader = thread.open(csv, [0, 1, 2, 3], target);
    const main = new PieceReader(csv, [0, 1, 2, 3], target);
    const dicts = new ThreadDictionaries(target);
    const replies = await Promise.all(pieces.map((p, i) => reader.read(bytes(p), i === 0)));
    replies.forEach((piece, i) => expect(plain(dicts.rows(piece))).toEqual(plain(main.parse(bytes(pieces[i]!), i === 0))));
    reader.close();
  });
});

describe('direct COPY flush from entry numbers', () => {
  const backend = new ReferenceBackend();
  const settings = target.settings;
  /** Encoded batches and their stats for the parts of one chunk, as a flush cuts them. */
  const batches = (parts: BufferedPart[], dicts: ThreadDictionaries | undefined) => {
    const { rows, groups } = joinParts(parts, dicts, settings.segmentBy);
    return planBatches(rows, settings, groups).map((b) => ({ stats: b.stats, bytes: Array.from(encodeBatch(backend, b.columns)) }));
  };

  it('cuts byte-identical batches from ids (grouped by number) and from strings, mixed pieces too', () => {
    // Hosts out of order and in several collation-relevant spellings, NULL hosts, times out of
    // order within a segment, enough rows per host for more than one 1,000-row batch.
    const hosts = ['b', 'B', 'a', 'ü', 'host_10', 'host_9', 'Z'];
    const line = (p: number, i: number) => {
      const h = (i * 5 + p) % (hosts.length + 1);
      const host = h === hosts.length ? '\\N' : hosts[h]!;
      const t = new Date(Date.UTC(2024, 0, 1) + ((i * 7919) % 9000) * 1000 + p).toISOString();
      return `${t}\t${host}\t${i % 13 ? i / 4 : 'NaN'}\t${i % 3 ? 'eu' : '\\N'}\n`;
    };
    const pieces = Array.from({ length: 5 }, (_, p) => Array.from({ length: 2500 }, (_, i) => line(p, i)).join(''));
    const main = new PieceReader(text, [0, 1, 2, 3], target);
    const ids = new PieceReader(text, [0, 1, 2, 3], target, true);
    const dicts = new ThreadDictionaries(target);
    const strings = pieces.map((p, i) => ({ rows: main.parse(bytes(p), i === 0)!, ids: false }));
    const numbers = pieces.map((p, i) => ({ rows: dicts.idRows(ids.readIds(bytes(p), i === 0))!, ids: true }));
    expect(numbers.map((p) => p.rows === undefined ? "none" : p.rows.columns[1]!.values.constructor.name)).toEqual(numbers.map(() => "Int32Array"));
    expect(joinParts(numbers, dicts, settings.segmentBy).groups).toHaveLength(hosts.length + 1);
    const expected = batches(strings, undefined);
    expect(expected.length).toBeGreaterThan(hosts.length + 1);
    expect(batches(numbers, dicts)).toEqual(expected);
    // Parts read on the main thread (before the thread started) buffered with parts from the thread.
    expect(batches([strings[0]!, ...numbers.slice(1)], dicts)).toEqual(expected);
    expect(batches([numbers[0]!, strings[1]!, ...numbers.slice(2)], dicts)).toEqual(expected);
  });
});

describe('direct COPY flush on the encoder thread', () => {
  const thread = new NodeReaderThread();
  afterAll(() => thread.close());
  const settings = target.settings;

  it('gives the batches (stats and bytes) the main thread cuts, flush after flush as strings arrive', async () => {
    // New hosts and regions keep appearing, so each request carries strings the thread has not
    // seen; NULL hosts, NaN and out-of-order times as in the flush test above.
    const line = (p: number, i: number) => {
      const h = (i * 3 + p * 11) % (8 + p * 4);
      const host = h === 0 ? '\\N' : `hôst_${h}`;
      const t = new Date(Date.UTC(2024, 0, 1) + ((i * 7919) % 9000) * 1000 + p).toISOString();
      return `${t}\t${host}\t${i % 13 ? i / 4 : 'NaN'}\t${i % 3 ? `r${(i + p) % (2 + p)}` : '\\N'}\n`;
    };
    const pieces = Array.from({ length: 6 }, (_, p) => Array.from({ length: 1500 + p * 300 }, (_, i) => line(p, i)).join(''));
    const main = new PieceReader(text, [0, 1, 2, 3], target);
    const ids = new PieceReader(text, [0, 1, 2, 3], target, true);
    const dicts = new ThreadDictionaries(target);
    const backend = new ReferenceBackend();
    const encoder = thread.encoder!(target);
    await vi.waitFor(() => expect(encoder.ready).toBe(true), { timeout: 30_000 });
    // Flushes of one, three and two pieces (the encoder's kept arrays grow, then are used in part);
    // the expected batches from the main thread's strings.
    const flushes = [[0], [3, 4, 5], [1, 2]];
    const replies: Array<Promise<EncodedFlush>> = [];
    const expected: EncodedFlush[] = [];
    for (const f of flushes) {
      const parts = f.map((p) => dicts.idRows(ids.readIds(bytes(pieces[p]!), p === 0))!);
      expected.push(encodeBatches(backend, joinParts(f.map((p) => ({ rows: main.parse(bytes(pieces[p]!), p === 0)!, ids: false })), undefined, settings.segmentBy).rows, settings));
      const request: EncodeRequest = { parts: parts.map((r) => r.columns.map((c) => ({ values: c.values as ThreadValues, nulls: c.nulls }))), added: dicts.takeNew() };
      replies.push(encoder.encode(request, requestBuffers(request).transfer));
    }
    const got = await Promise.all(replies);
    got.forEach((flush, i) => {
      expect(flush.objects.length).toBeGreaterThanOrEqual(8);
      expect(flush.stats).toEqual(expected[i]!.stats);
      expect(flush.objects.map((o) => Array.from(o))).toEqual(expected[i]!.objects.map((o) => Array.from(o)));
      // One shared buffer per flush, the objects back to back in it (packed as views, never counted
      // as external memory by the main isolate).
      const buffer = flush.objects[0]!.buffer;
      expect(buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(buffer.byteLength).toBe(flush.objects.reduce((sum, o) => sum + o.length, 0));
      flush.objects.forEach((o, k) => expect([o.buffer === buffer, o.byteOffset]).toEqual([true, k === 0 ? 0 : flush.objects[k - 1]!.byteOffset + flush.objects[k - 1]!.length]));
    });
    encoder.close();
  });

  it('fails the request, not the thread, on an encoder it does not know', async () => {
    const encoder = thread.encoder!(target);
    encoder.close();
    await expect(encoder.encode({ parts: [], added: [] }, [])).rejects.toThrow(/no direct COPY encoder/);
    const again = thread.encoder!(target);
    await expect(again.encode({ parts: [], added: [] }, [])).resolves.toEqual({ stats: [], objects: [] });
    again.close();
  });

  it('has no encoder when asked for none (the main thread encodes)', async () => {
    const none = new NodeReaderThread({ encoder: false });
    expect(none.encoder).toBeUndefined();
    await none.close();
  });
});
