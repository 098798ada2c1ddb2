/**
 * @module session/columnstore/facts
 * What the fast path's internal statement reads from the catalog and the rowstore — a hypertable's
 * compressed chunks' manifest keys, whether its rowstore can hold rows at all, its columns'
 * collations, the database's text order — kept between statements while PostgreSQL's snapshot
 * shows that nothing was written since.
 *
 * Why: planning and running those lookups (a catalog join, an EXISTS over every chunk of the
 * hypertable, pg_attribute, pg_database) was most of the internal statement's PostgreSQL work, and
 * on a freshly started backend the WebAssembly tier-up of the code they run was most of the
 * process's CPU during the first queries (docs/benchmarks.md, "cold").
 *
 * Why it is exact: every write to a table (the catalog included; DDL, compress/decompress, COPY,
 * DML, whatever a function or trigger does, any session) takes a transaction id, and the set of
 * transactions a snapshot sees as completed is given by its text `xmin:xmax:xip…`. Two snapshots
 * with the same text see the same committed rows; a transaction of our own with an id (writes of the
 * current transaction block) makes the facts unusable and unkept. The lookups run as the current
 * user (privileges), so the user is part of the probe; row-level security could make a setting
 * matter, so a table with it enabled is never taken as empty. A probe (`PROBE_SQL`) goes with every
 * statement using kept facts, which are used only when it answers what it answered when they were
 * read; otherwise the statement is run again in its full form, which reads them anew.
 *
 * With the row store's request count (rowstore/counted.ts) there is a shorter rule: when the
 * statement that read or confirmed the facts was PostgreSQL's only request since it began, an
 * unchanged count later means PostgreSQL ran nothing in between — the facts, and the settings that
 * statement read, still hold, and a statement needs no probe (`quiet`, local-inputs.ts).
 */
import { firstError, jsonRows, quoteIdent, type InternalRunner } from '../internal-sql.js';
import { quoteLiteral } from '../settings.js';

/** Facts of one hypertable (see the module comment). */
export interface TableFacts {
  /** Manifest keys of its compressed chunks, by the chunks' range start. */
  readonly keys: readonly string[];
  /** The same keys in the database's text order (`ORDER BY manifest`). */
  readonly keysByName: readonly string[];
  /** Whether its rowstore (the hypertable and its chunk tables) may hold rows: false only when it has none. */
  readonly rowstoreRows: boolean;
  /** Per column, whether it has the database's default collation (or none). */
  readonly defaultCollation: Readonly<Record<string, boolean>>;
  /** Whether the database orders text by its bytes (libc C/POSIX). */
  readonly byteOrder: boolean | null;
}

/**
 * How a statement gets a table's facts: undefined — looked up in its own way; `'probe'` — the same,
 * with PROBE_SQL and NULL ending its array; `'read'` — PROBE_SQL and `factsSql` end it; kept
 * facts — only PROBE_SQL and NULL end it, the facts are left out.
 */
export type FactsMode = undefined | 'probe' | 'read' | TableFacts;

/** A JSON array: the snapshot, the user, whether the current transaction has no id of its own. */
export const PROBE_SQL = 'json_build_array(pg_current_snapshot()::text, current_user, pg_current_xact_id_if_assigned() IS NULL)';

/** The session settings that decide whether rows can be printed by Orbit (the database's text order is a fact). */
export const PRINT_SETTINGS_SQL = "json_build_array(current_setting('extra_float_digits'), current_setting('DateStyle'), current_setting('TimeZone'), current_setting('client_encoding'))";

/** SQL of a JSON array read by `readFacts`: a hypertable's facts. */
export function factsSql(table: { readonly id: number; readonly schema: string; readonly name: string }): string {
  const t = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
  const rel = `${quoteLiteral(t)}::regclass`;
  const chunks = `FROM _timescaledb_catalog.chunk ch JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id WHERE ch.hypertable_id = ${table.id} AND NOT ch.dropped`;
  return (
    `json_build_array((SELECT json_agg(cc.manifest ORDER BY ch.range_start) ${chunks}), (SELECT json_agg(cc.manifest ORDER BY cc.manifest) ${chunks}), ` +
    `(SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = ${rel}) OR EXISTS (SELECT 1 FROM ${t}), ` +
    `(SELECT json_object_agg(a.attname, a.attcollation IN (0, 100)) FROM pg_attribute a WHERE a.attrelid = ${rel} AND a.attnum > 0 AND NOT a.attisdropped), ` +
    `(SELECT datlocprovider = 'c' AND datcollate IN ('C', 'POSIX') FROM pg_database WHERE datname = current_database()))`
  );
}

/** `factsSql`'s value as TableFacts. */
export function readFacts(value: unknown): TableFacts {
  const [keys, keysByName, rowstoreRows, collations, byteOrder] = value as [string[] | null, string[] | null, boolean | null, Record<string, boolean> | null, boolean | null];
  return { keys: keys ?? [], keysByName: keysByName ?? [], rowstoreRows: rowstoreRows !== false, defaultCollation: collations ?? {}, byteOrder };
}

/** Whether every one of `columns` has the default collation (true for none). */
export function defaultCollations(facts: TableFacts, columns: readonly string[]): boolean {
  return columns.every((c) => facts.defaultCollation[c] === true);
}

/**
 * Facts of hypertables with the probe answer they hold under. One per backend (sessions take turns
 * on it; the user is in the probe).
 */
export class FactsCache {
  /**
   * `requests`: the row store's request count (rowstore/counted.ts). With it, facts confirmed by a
   * statement that was PostgreSQL's only work since it began hold, without a probe, for as long as
   * PostgreSQL runs nothing else (see `quiet`).
   */
  constructor(private readonly requests?: () => number) {}

  /**
   * The request count right after the last statement that read or confirmed the facts and was the
   * only request since it began (or after a statement of ours that changes nothing, see `carry`),
   * and the print settings such statements read, by the key of the session settings they ran
   * under: while the count stands still, nothing was read, written or set since.
   */
  private still: { at: number; readonly settings: Map<string, readonly unknown[]> } | undefined;

  /** The last probe answer seen; `tables` hold under it. */
  private probe: string | undefined;
  private readonly tables = new Map<number, TableFacts>();
  /**
   * A probe answered otherwise than the one before it (something was written): the next statements
   * take the form without facts, with the probe, until it answers the same twice (writes stopped).
   */
  private unsettled = false;

  /** The request count now (undefined: not counted). */
  count(): number | undefined {
    return this.requests?.();
  }

  /**
   * After `withFacts` returned facts from a statement that was the only request since `before`
   * (`count()` then), run under the settings of key `settingsKey` that gave the print settings
   * `settings`: they hold until PostgreSQL runs anything else.
   */
  markStill(before: number | undefined, settingsKey: string, settings: readonly unknown[]): void {
    const now = this.count();
    if (before === undefined || now !== before + 1) {
      this.still = undefined;
      return;
    }
    // Still since before this statement (which only read): what other settings gave holds too.
    if (this.still?.at !== before) this.still = { at: now, settings: new Map() };
    this.still.at = now;
    if (this.still.settings.size >= STILL_SETTINGS) this.still.settings.clear();
    this.still.settings.set(settingsKey, settings);
  }

  /**
   * After a statement of Orbit's that reads no table and changes nothing (the description of a
   * result over no rows), begun at request count `before`: the facts stay still if it was the only
   * request since they were.
   */
  carry(before: number | undefined): void {
    const still = this.still;
    if (still && before === still.at && this.count() === before + 1) still.at = before + 1;
  }

  /**
   * Kept facts of hypertable `id` and the print settings of `settingsKey`, when PostgreSQL has run
   * nothing since they were confirmed under those settings: a statement needs no round trip to
   * know them. Callers outside a transaction block only (a block's snapshot may be older).
   */
  quiet(id: number, settingsKey: string): { facts: TableFacts; settings: readonly unknown[] } | undefined {
    const still = this.still;
    const settings = still?.settings.get(settingsKey);
    if (!still || !settings || this.unsettled || this.count() !== still.at) return undefined;
    const facts = this.tables.get(id);
    return facts && { facts, settings };
  }

  /** How the next statement about hypertable `id` should get its facts. */
  mode(id: number): Exclude<FactsMode, undefined> {
    return this.unsettled ? 'probe' : (this.tables.get(id) ?? 'read');
  }

  /**
   * After a statement of mode `'probe'` or kept facts: whether the facts kept hold under its probe
   * answer (PROBE_SQL's value). When they do not, they are dropped and the cache is unsettled.
   */
  holds(probe: unknown): boolean {
    const key = probeKey(probe);
    if (key !== undefined && key === this.probe) {
      this.unsettled = false;
      return true;
    }
    this.tables.clear();
    this.still = undefined;
    this.probe = key;
    this.unsettled = true;
    return false;
  }

  /** Keeps the facts of hypertable `id`, read under `probe`. */
  keep(probe: unknown, id: number, facts: TableFacts): void {
    const key = probeKey(probe);
    if (key === undefined) return;
    if (key !== this.probe) {
      this.tables.clear();
      this.still = undefined;
      this.probe = key;
    }
    this.tables.set(id, facts);
  }

  /** Forgets everything (a backend restart). */
  clear(): void {
    this.probe = undefined;
    this.tables.clear();
    this.still = undefined;
    this.unsettled = false;
  }
}

/** Most session settings keys whose print settings are kept at once (sessions of other settings). */
const STILL_SETTINGS = 16;

/** The probe's key; undefined when the current transaction wrote (its own rows are not in the snapshot's text). */
function probeKey(probe: unknown): string | undefined {
  if (!Array.isArray(probe) || probe[2] !== true) return undefined;
  return `${String(probe[0])}\u0000${String(probe[1])}`;
}

/**
 * Runs an internal statement `sql(mode)` whose first row is one JSON array, `tail(row)` being the
 * array that ends with the probe and the facts: with kept facts when they hold (else once more,
 * reading them), reading them when there are none, and in the form without facts (with the probe)
 * while writes go on; without `cache`, in the form without facts or probe. Undefined when the
 * statement failed; `facts`: those that hold for it, if any (else the row has the full form's layout),
 * and `before`: the request count before the statement that gave them (FactsCache.markStill).
 */
export async function withFacts(
  run: InternalRunner,
  cache: FactsCache | undefined,
  table: { readonly id: number; readonly schema: string; readonly name: string },
  sql: (mode: FactsMode) => string,
  tail: (row: unknown[]) => unknown[],
): Promise<{ row: unknown[]; facts?: TableFacts; before?: number } | undefined> {
  let mode: FactsMode = cache?.mode(table.id);
  for (;;) {
    const before = cache?.count();
    const out = await run.sql(sql(mode));
    if (firstError(out)) return undefined;
    const row = jsonRows<unknown[]>(out)[0]!;
    if (mode === undefined) return { row };
    const end = tail(row);
    const probe = end[end.length - 2];
    if (mode === 'read') {
      const facts = readFacts(end[end.length - 1]);
      cache!.keep(probe, table.id, facts);
      return { row, facts, before };
    }
    const holds = cache!.holds(probe);
    if (mode === 'probe') return { row };
    if (holds) return { row, facts: mode, before };
    mode = 'read';
  }
}
