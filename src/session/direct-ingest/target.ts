/**
 * @module session/direct-ingest/target
 * Which hypertable a COPY or INSERT may write directly to the columnstore (session/direct-ingest/copy.ts):
 * the table option, the session settings, the role's privileges (as the session's current role), and
 * what PostgreSQL would have to check row by row.
 */
import { pgTypeOf, type PgType } from '../../columnstore/columns.js';
import type { CompressionSettings } from '../../columnstore/batch.js';
import type { ClassifiedStatement } from '../../sql/classify.js';
import { firstError, jsonRows, quoteIdent, textRows, type InternalRunner } from '../internal-sql.js';
import { quoteLiteral } from '../settings.js';
import { readCopyFormat } from '../copy-in.js';

/** COPY options the fast reader understands; any other keeps the row store path. */
const OPTIONS = new Set(['format', 'delimiter', 'null', 'header', 'quote', 'escape']);
const UTC_NAMES = new Set(['utc', 'etc/utc', 'gmt', 'etc/gmt', 'uct', 'etc/uct', 'zulu', 'etc/zulu', 'universal', 'etc/universal', 'greenwich', 'etc/greenwich', 'gmt0', 'etc/gmt0']);

export interface TargetColumn {
  readonly name: string;
  readonly type: PgType;
  /** pg_type OID (a Bind parameter declared with another type is not read as this column's input). */
  readonly typeOid: number;
  /** format_type: carries typmods (varchar(10), numeric(6,2), timestamptz(3)). */
  readonly formatted: string;
  readonly notNull: boolean;
  readonly hasDefault: boolean;
  /** The session's current role may insert into it (INSERT on the table or on this column). */
  readonly insertable: boolean;
  /** The hypertable's attnum (recorded in the manifests: columnstore/manifest.ts). */
  readonly attnum: number;
}

/** A hypertable COPY can write to directly. */
export interface DirectTarget {
  readonly hypertableId: number;
  readonly schema: string;
  readonly name: string;
  readonly columns: readonly TargetColumn[];
  readonly timeColumn: string;
  /** The time dimension's interval (internal units), to ask for one new chunk per interval. */
  readonly interval: bigint;
  readonly settings: CompressionSettings;
  readonly utc: boolean;
  readonly utf8: boolean;
  /**
   * The role may create the temporary table a COPY's pieces are staged in (TEMP on the database,
   * SELECT on the hypertable for its LIKE), which PostgreSQL's own COPY does not ask for: without
   * them the COPY takes the row store path.
   */
  readonly stageable: boolean;
}

interface TargetInfo {
  id: number;
  schema: string;
  name: string;
  direct: boolean | null;
  guc: string | null;
  dimensions: number;
  blocked: boolean;
  timeColumn: string;
  interval: string | null;
  segmentby: string[] | null;
  orderby: string[] | null;
  orderby_desc: boolean[] | null;
  orderby_nullsfirst: boolean[] | null;
  columns: Array<{ name: string; typname: string; oid: string; formatted: string; notnull: boolean; hasdefault: boolean; insert: boolean; attnum: number }>;
  timezone: string;
  encoding: string;
  stage: boolean;
}

/**
 * The hypertable `statement` (a COPY FROM STDIN) can write directly, or undefined for the row store
 * path. Runs inside the session's current transaction state (a lookup error leaves it untouched:
 * the caller runs it only when the extension is installed).
 */
export async function directCopyTarget(run: InternalRunner, statement: ClassifiedStatement): Promise<DirectTarget | undefined> {
  const node = statement.node;
  if (node.query || node.whereClause || node.filename || node.is_program || !node.is_from) return undefined;
  const options = ((node.options as Array<{ DefElem: { defname: string } }> | undefined) ?? []).map((o) => o.DefElem.defname);
  if (options.some((o) => !OPTIONS.has(o))) return undefined;
  // PostgreSQL refuses DELIMITER, NULL, HEADER, QUOTE and ESCAPE with FORMAT binary, which Orbit's
  // binary reader would ignore: the row store path lets PostgreSQL answer.
  if (readCopyFormat(node).kind === 'binary' && options.some((o) => o !== 'format')) return undefined;
  const target = await directTarget(run, node.relation as { schemaname?: string; relname?: string } | undefined, 'timescaledb.enable_direct_compress_copy');
  if (!target?.stageable) return undefined;
  const attlist = (node.attlist as Array<{ String: { sval: string } }> | undefined)?.map((a) => a.String.sval);
  const listed = attlist ? attlist.map((n) => target.columns.find((c) => c.name === n)) : target.columns;
  return mayInsert(listed) ? target : undefined;
}

/**
 * Whether the role may insert into every column a COPY or INSERT lists (all of them without a
 * list). If not — or a name is no column — the statement takes the row store path, where
 * PostgreSQL gives its own error (42501 `permission denied for table …`, 42703).
 */
export function mayInsert(listed: ReadonlyArray<TargetColumn | undefined>): boolean {
  return listed.every((c) => c?.insertable === true);
}

/** The hypertable `relation` when writes into it go directly to the columnstore under setting `guc`. */
export async function directTarget(run: InternalRunner, relation: { schemaname?: string; relname?: string } | undefined, guc: string): Promise<DirectTarget | undefined> {
  if (!relation?.relname) return undefined;
  const name = relation.schemaname ? `${quoteIdent(relation.schemaname)}.${quoteIdent(relation.relname)}` : quoteIdent(relation.relname);
  // An extension installed by an older Orbit has no direct-compress catalog: the lookup would fail
  // (and abort the client's transaction block).
  const installed = await run.sql(`SELECT to_regclass('_timescaledb_catalog.orbit_direct_compress') IS NOT NULL`);
  if (firstError(installed) || textRows(installed)[0]?.[0] !== 't') return undefined;
  const out = await run.sql(targetSql(name, guc));
  if (firstError(out)) return undefined;
  const info = jsonRows<TargetInfo | null>(out)[0];
  if (!info) return undefined;
  // Unset (the start-up value '', catalog/extension/settings.ts) leaves it to the table option; on
  // enables direct writes for any columnstore hypertable, as TimescaleDB's setting does; off keeps
  // every write in the row store (TimescaleDB would still follow a table option that is on, but
  // Orbit turns the option on by default where TimescaleDB leaves it off).
  const enabled = settingBool(info.guc) ?? info.direct === true;
  if (!enabled || info.blocked || info.dimensions !== 1) return undefined;
  const orderBy = (info.orderby ?? [info.timeColumn]).map((column, i) => ({
    column,
    desc: info.orderby_desc?.[i] ?? true,
    nullsFirst: info.orderby_nullsfirst?.[i] ?? true,
  }));
  return {
    hypertableId: info.id,
    schema: info.schema,
    name: info.name,
    columns: info.columns.map((c) => ({
      name: c.name,
      type: pgTypeOf(c.typname),
      typeOid: Number(c.oid),
      formatted: c.formatted,
      notNull: c.notnull,
      hasDefault: c.hasdefault,
      insertable: c.insert,
      attnum: c.attnum,
    })),
    timeColumn: info.timeColumn,
    interval: BigInt(info.interval ?? '1'),
    settings: { segmentBy: info.segmentby ?? [], orderBy, timeColumn: info.timeColumn },
    utc: UTC_NAMES.has(info.timezone.toLowerCase()),
    utf8: info.encoding.toUpperCase() === 'UTF8',
    stageable: info.stage,
  };
}

/**
 * A boolean setting's value as PostgreSQL's parse_bool reads it (any case; unique prefixes of
 * true/false/yes/no, on/off from two letters, 1/0); undefined for '' (unset) or anything else.
 */
export function settingBool(value: string | null): boolean | undefined {
  const v = (value ?? '').toLowerCase();
  const prefix = (word: string, min: number) => v.length >= min && word.startsWith(v);
  if (prefix('true', 1) || prefix('yes', 1) || prefix('on', 2) || v === '1') return true;
  if (prefix('false', 1) || prefix('no', 1) || prefix('off', 2) || v === '0') return false;
  return undefined;
}

function targetSql(name: string, guc: string): string {
  const C = '_timescaledb_catalog';
  return `SELECT (SELECT json_build_object('id', h.id, 'schema', h.schema_name, 'name', h.table_name,
    'direct', (SELECT dc.enabled FROM ${C}.orbit_direct_compress dc WHERE dc.hypertable_id = h.id),
    'guc', current_setting(${quoteLiteral(guc)}, true),
    'dimensions', (SELECT count(*) FROM ${C}.dimension d WHERE d.hypertable_id = h.id),
    'blocked', EXISTS (SELECT FROM pg_index i WHERE i.indrelid = h.relid AND i.indisunique)
      OR EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = h.relid AND NOT t.tgisinternal)
      OR EXISTS (SELECT FROM pg_constraint k WHERE k.conrelid = h.relid AND k.contype IN ('c', 'f', 'x'))
      OR EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = h.relid AND a.attnum > 0 AND NOT a.attisdropped AND (a.attgenerated <> '' OR a.attidentity <> ''))
      OR (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = h.relid),
    'timeColumn', (SELECT d.column_name FROM ${C}.dimension d WHERE d.hypertable_id = h.id AND d.interval_length IS NOT NULL ORDER BY d.id LIMIT 1),
    'interval', (SELECT d.interval_length::text FROM ${C}.dimension d WHERE d.hypertable_id = h.id AND d.interval_length IS NOT NULL ORDER BY d.id LIMIT 1),
    'segmentby', cs.segmentby, 'orderby', cs.orderby, 'orderby_desc', cs.orderby_desc, 'orderby_nullsfirst', cs.orderby_nullsfirst,
    'columns', (SELECT json_agg(json_build_object('name', a.attname, 'typname', t.typname, 'oid', a.atttypid, 'formatted', format_type(a.atttypid, a.atttypmod),
        'notnull', a.attnotnull, 'hasdefault', a.atthasdef, 'insert', has_column_privilege(h.relid, a.attnum, 'INSERT'), 'attnum', a.attnum) ORDER BY a.attnum)
      FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = h.relid AND a.attnum > 0 AND NOT a.attisdropped),
    'timezone', current_setting('TimeZone'), 'encoding', current_setting('client_encoding'),
    'stage', has_table_privilege(h.relid, 'SELECT') AND has_database_privilege(current_database(), 'TEMP'))
  FROM ${C}.hypertable h LEFT JOIN ${C}.compression_settings cs ON cs.hypertable_id = h.id
  WHERE h.relid = to_regclass(${quoteLiteral(name)}) AND h.compression_state = 1)`;
}

