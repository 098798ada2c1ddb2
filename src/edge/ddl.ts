/**
 * @module edge/ddl
 * DDL and the TimescaleDB API at the edge: CREATE EXTENSION timescaledb, CREATE TABLE (with
 * `WITH (timescaledb.hypertable …)`), DROP TABLE, ALTER TABLE … SET (timescaledb.compress …),
 * and the functions called as `SELECT f(…)`: create_hypertable (classic and by_range),
 * set_chunk_time_interval, show_chunks, drop_chunks, compress_chunk / convert_to_columnstore,
 * set_config / current_setting. Results and errors follow TimescaleDB 2.x and the Node profile
 * (src/catalog/extension/): e.g. `(1,public,cpu,t)` for the classic create_hypertable.
 */
import { OrbitError, orbitError } from '../errors.js';
import { parseSql } from '../sql/parser.js';
import { ErrCode } from '../catalog/extension/errcodes.js';
import { toInternal, type Chunk, type ColumnDef, type Hypertable, type OrderByDef } from './catalog.js';
import type { EdgeEngine, StatementResult } from './engine.js';
import { callArgs, coerce, compile, funcName, notAtEdge, unwrap, type Node } from './expr.js';
import { INTEGER_TYPES, TIME_TYPES, typeNamed, type EdgeType, type Value } from './values.js';
import type { Interval } from '../functions/calendar.js';
import { timestamptzPlusInterval } from '../functions/time-zone.js';
import { intervalJson, RETENTION_PROC, type RetentionConfig } from './retention.js';
import { compressChunk, dropChunks, dropShardedTable, setShardCount } from './shard-chunks.js';

/** TimescaleDB's default chunk interval for time types: 7 days, in µs. */
const DEFAULT_INTERVAL_US = 7 * 86_400_000_000;
const CHUNK_SCHEMA = '_timescaledb_internal';
/** TimescaleDB's own SQLSTATE (src/errors.h). */
const TS_HYPERTABLE_EXISTS = ErrCode.ts_hypertable_exists;

type Params = readonly (string | null)[];

export async function runDdl(engine: EdgeEngine, type: string, node: Node, params: Params): Promise<StatementResult | undefined> {
  switch (type) {
    case 'CreateExtensionStmt':
      return createExtension(engine, node);
    case 'CreateStmt':
      return createTable(engine, node, params);
    case 'DropStmt':
      return dropTable(engine, node);
    case 'AlterTableStmt':
      return alterTable(engine, node);
    case 'SelectStmt':
      return apiCall(engine, node, params);
    default:
      return undefined;
  }
}

function createExtension(engine: EdgeEngine, node: Node): StatementResult {
  const name = String(node.extname);
  if (name !== 'timescaledb') throw notAtEdge(`extension "${name}"`);
  if (engine.catalog.meta('extension') && !node.if_not_exists) throw orbitError('duplicate_object', `extension "${name}" already exists`);
  engine.catalog.setMeta('extension', name);
  return { command: 'CREATE EXTENSION', rows: [] };
}

function relName(rel: Node): string {
  if (rel.schemaname && rel.schemaname !== 'public') throw notAtEdge(`tables outside schema public ("${String(rel.schemaname)}.${String(rel.relname)}")`);
  if (rel.relpersistence === 't') throw notAtEdge('temporary tables');
  return String(rel.relname);
}

function createTable(engine: EdgeEngine, node: Node, params: Params): StatementResult {
  const name = relName(node.relation as Node);
  for (const k of ['inhRelations', 'partspec', 'partbound', 'ofTypename']) if (node[k]) throw notAtEdge('partitioned, inherited or typed tables');
  if (engine.catalog.table(name)) {
    if (node.if_not_exists) return { command: 'CREATE TABLE', rows: [] };
    throw orbitError('duplicate_table', `relation "${name}" already exists`);
  }
  const columns: ColumnDef[] = ((node.tableElts as Node[] | undefined) ?? []).map((el) => {
    const [kind, c] = unwrap(el);
    if (kind !== 'ColumnDef') throw notAtEdge('table constraints');
    const names = ((c.typeName as Node).names as Node[]).map((x) => String((x.String as Node).sval));
    if ((c.typeName as Node).arrayBounds) throw notAtEdge('array columns');
    const type = typeNamed(names[names.length - 1]!);
    if (type === 'interval' || type === 'regclass') throw notAtEdge(`columns of type ${type}`);
    let notNull = false;
    for (const con of (c.constraints as Node[] | undefined) ?? []) {
      const ct = String((con.Constraint as Node).contype);
      if (ct === 'CONSTR_NOTNULL') notNull = true;
      else if (ct !== 'CONSTR_NULL') throw notAtEdge(`column constraint ${ct.replace('CONSTR_', '')} (the edge columnstore is append-only)`);
    }
    return { name: String(c.colname), type, notNull };
  });
  const options = tsOptions(node.options as Node[] | undefined);
  const hypertable = options.get('hypertable');
  engine.catalog.atomically(() => {
    engine.catalog.createTable({ name, columns });
    if (hypertable !== undefined && hypertable !== 'false') {
      const time = options.get('partition_column') ?? columns.find((c) => TIME_TYPES.has(c.type))?.name;
      if (!time) throw orbitError('invalid_parameter_value', 'partition column could not be determined', { hint: 'Use "timescaledb.partition_column" to specify the column to use as partitioning column.' });
      const interval = options.get('chunk_interval');
      makeHypertable(engine, name, time, interval === undefined ? undefined : { text: interval }, params);
    }
    applyCompression(engine, name, options);
  });
  return { command: 'CREATE TABLE', rows: [] };
}

async function dropTable(engine: EdgeEngine, node: Node): Promise<StatementResult> {
  if (node.removeType !== 'OBJECT_TABLE') throw notAtEdge(`DROP ${String(node.removeType).replace('OBJECT_', '')}`);
  if (node.behavior === 'DROP_CASCADE') throw notAtEdge('DROP ... CASCADE');
  const names = (node.objects as Node[]).map((o) => {
    const items = ((o.List as Node).items as Node[]).map((x) => String((x.String as Node).sval));
    if (items.length > 1 && items[0] !== 'public') throw notAtEdge(`tables outside schema public ("${items.join('.')}")`);
    return items[items.length - 1]!;
  });
  for (const n of names) if (!engine.catalog.table(n) && !node.missing_ok) throw orbitError('undefined_table', `table "${n}" does not exist`);
  // Shard objects first: a failed call leaves the table here, and DROP TABLE can be retried.
  for (const n of names) await dropShardedTable(engine, n);
  engine.catalog.atomically(() => {
    for (const n of names) if (engine.catalog.table(n)) engine.catalog.dropTable(n);
  });
  // The batch objects go after the catalog no longer points at them.
  await engine.columnstore.sweep(engine.catalog.allManifestKeys());
  return { command: 'DROP TABLE', rows: [] };
}

function alterTable(engine: EdgeEngine, node: Node): StatementResult {
  const name = relName(node.relation as Node);
  engine.catalog.requireTable(name);
  const cmds = (node.cmds as Node[]).map((c) => c.AlterTableCmd as Node);
  const defs: Node[] = [];
  for (const c of cmds) {
    if (c.subtype !== 'AT_SetRelOptions') throw notAtEdge(`ALTER TABLE ${String(c.subtype).replace('AT_', '')}`);
    defs.push(...(((c.def as Node).List as Node).items as Node[]));
  }
  // orbit.shards = n: spread the hypertable's new chunks over n shard objects (docs/runtimes/workers.md, "Scale-out").
  const orbit = defs.filter((d) => (d.DefElem as Node).defnamespace === 'orbit');
  for (const d of orbit) {
    const e = d.DefElem as Node;
    if (e.defname !== 'shards') throw notAtEdge(`storage parameter "orbit.${String(e.defname)}"`);
    const arg = e.arg as Node | undefined;
    const n = arg?.Integer ? Number((arg.Integer as Node).ival ?? 0) : NaN;
    setShardCount(engine, name, n);
  }
  const rest = defs.filter((d) => (d.DefElem as Node).defnamespace !== 'orbit');
  if (rest.some((d) => (d.DefElem as Node).defnamespace !== 'timescaledb')) throw notAtEdge('ALTER TABLE SET of storage parameters');
  if (rest.length > 0) engine.catalog.atomically(() => applyCompression(engine, name, tsOptions(rest), true));
  return { command: 'ALTER TABLE', rows: [] };
}

/** `timescaledb.*` options of a WITH/SET list, by name; flags without a value read as 'true'. */
function tsOptions(defs: Node[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of defs ?? []) {
    const e = d.DefElem as Node;
    if (e.defnamespace !== 'timescaledb') throw notAtEdge(`storage parameter "${String(e.defname)}"`);
    const arg = e.arg as Node | undefined;
    const v = arg?.String ? String((arg.String as Node).sval) : arg?.Boolean ? String(Boolean((arg.Boolean as Node).boolval)) : arg?.Integer ? String((arg.Integer as Node).ival ?? 0) : 'true';
    out.set(String(e.defname), v);
  }
  return out;
}

/** Columnstore settings: compress/enable_columnstore, (compress_)segmentby, (compress_)orderby. */
function applyCompression(engine: EdgeEngine, table: string, options: Map<string, string>, required = false): void {
  const enable = options.get('compress') ?? options.get('enable_columnstore') ?? options.get('columnstore');
  const segment = options.get('compress_segmentby') ?? options.get('segmentby');
  const order = options.get('compress_orderby') ?? options.get('orderby');
  const known = new Set(['compress', 'enable_columnstore', 'columnstore', 'compress_segmentby', 'segmentby', 'compress_orderby', 'orderby', 'hypertable', 'partition_column', 'chunk_interval']);
  for (const k of options.keys()) if (!known.has(k)) throw notAtEdge(`timescaledb.${k}`);
  if (enable === undefined && segment === undefined && order === undefined) return;
  const h = engine.catalog.hypertable(table);
  if (!h) {
    if (!required) return;
    throw orbitError('feature_not_supported', `columnstore not enabled on "${table}"`, { detail: 'It is not possible to enable columnstore on a table that is not a hypertable.' });
  }
  if (enable === 'false') throw notAtEdge('disabling the columnstore (every edge chunk is in the columnstore)');
  const table_ = engine.catalog.requireTable(table);
  const has = (c: string) => {
    if (!table_.columns.some((x) => x.name === c)) throw orbitError('undefined_column', `column "${c}" does not exist`);
    return c;
  };
  const segmentBy = segment === undefined ? (h.compression?.segmentBy ?? []) : segment.trim() === '' ? [] : parseColumnList(segment).map(has);
  let orderBy: OrderByDef[] = h.compression?.orderBy ? [...h.compression.orderBy] : [];
  if (order !== undefined) orderBy = parseOrderBy(order).map((o) => ({ ...o, column: has(o.column) }));
  engine.catalog.setCompression(h.id, segmentBy, orderBy);
}

/** A column list as written in a setting, read with PostgreSQL's parser (quoting rules included). */
function parseColumnList(text: string): string[] {
  const [stmt] = parseSql(`SELECT ${text}`);
  return ((stmt!.node.targetList as Node[]) ?? []).map((t) => {
    const f = ((((t.ResTarget as Node).val as Node).ColumnRef as Node | undefined)?.fields as Node[] | undefined) ?? [];
    if (f.length !== 1 || !f[0]!.String) throw orbitError('syntax_error', `unable to parse segmenting option "${text}"`);
    return String((f[0]!.String as Node).sval);
  });
}

function parseOrderBy(text: string): OrderByDef[] {
  const [stmt] = parseSql(`SELECT 1 ORDER BY ${text}`);
  return ((stmt!.node.sortClause as Node[]) ?? []).map((s) => {
    const sb = s.SortBy as Node;
    const f = (((sb.node as Node).ColumnRef as Node | undefined)?.fields as Node[] | undefined) ?? [];
    if (f.length !== 1 || !f[0]!.String) throw orbitError('syntax_error', `unable to parse ordering option "${text}"`);
    const desc = sb.sortby_dir === 'SORTBY_DESC';
    const nullsFirst = sb.sortby_nulls === 'SORTBY_NULLS_FIRST' ? true : sb.sortby_nulls === 'SORTBY_NULLS_LAST' ? false : desc;
    return { column: String((f[0]!.String as Node).sval), desc, nullsFirst };
  });
}

// ---- SELECT f(...) ------------------------------------------------------------------------------

const API = new Set([
  'create_hypertable', 'set_chunk_time_interval', 'show_chunks', 'drop_chunks', 'compress_chunk', 'convert_to_columnstore',
  'set_config', 'current_setting', 'route_default_rows', 'add_dimension', 'add_retention_policy', 'remove_retention_policy',
  'add_compression_policy', 'add_columnstore_policy', 'decompress_chunk', 'convert_to_rowstore', 'version',
]);

/** API functions that only read. */
const READ_ONLY_API = new Set(['show_chunks', 'current_setting', 'version', 'route_default_rows']);

/** Whether a SELECT calls an API function that changes the catalog (refused inside transaction blocks). */
export function changesCatalog(stmt: Node): boolean {
  let found = false;
  const visit = (n: unknown): void => {
    if (found || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(visit);
    const call = (n as Node).FuncCall as Node | undefined;
    if (call && API.has(funcName(call)) && !READ_ONLY_API.has(funcName(call))) found = true;
    Object.values(n as Node).forEach(visit);
  };
  visit(stmt);
  return found;
}

/** A call to the API, alone in a FROM-less select list or as `SELECT * FROM show_chunks(…)`; undefined otherwise. */
async function apiCall(engine: EdgeEngine, stmt: Node, params: Params): Promise<StatementResult | undefined> {
  const targets = (stmt.targetList as Node[] | undefined) ?? [];
  const from = (stmt.fromClause as Node[] | undefined) ?? [];
  let call: Node | undefined;
  let label: string | undefined;
  const calls = targets.map((t) => ((t.ResTarget as Node).val as Node).FuncCall as Node | undefined);
  if (from.length === 0 && targets.length > 1 && calls.every((c) => c !== undefined && funcName(c) === 'set_config')) {
    // The session layer re-applies a session's settings as one `SELECT set_config(…), set_config(…)`.
    const results: StatementResult[] = [];
    for (const t of targets) results.push((await apiCall(engine, { ...stmt, targetList: [t] }, params))!);
    return { command: 'SELECT 1', fields: results.flatMap((r) => r.fields!), rows: [results.map((r) => r.rows[0]![0]!)] };
  }
  if (from.length === 0 && targets.length === 1) {
    const rt = targets[0]!.ResTarget as Node;
    call = (rt.val as Node).FuncCall as Node | undefined;
    label = rt.name as string | undefined;
  } else if (from.length === 1 && from[0]!.RangeFunction && targets.length === 1) {
    const fields = ((((targets[0]!.ResTarget as Node).val as Node).ColumnRef as Node | undefined)?.fields as Node[] | undefined) ?? [];
    const fns = ((from[0]!.RangeFunction as Node).functions as Node[]).map((f) => ((f.List as Node).items as Node[])[0]!);
    if (fields.length === 1 && fields[0]!.A_Star && fns.length === 1) call = fns[0]!.FuncCall as Node | undefined;
  }
  if (!call) return undefined;
  const name = funcName(call);
  if (!API.has(name)) return undefined;
  for (const k of ['whereClause', 'groupClause', 'sortClause', 'limitCount', 'distinctClause', 'havingClause']) {
    if (stmt[k]) throw notAtEdge(`${name}() combined with ${k.replace('Clause', '').toUpperCase()}`);
  }
  const { positional, named } = callArgs(call);
  const arg = (i: number, key: string): Node | undefined => positional[i] ?? named.get(key);
  const scope = engine.constantScope(params);
  const text = (n: Node | undefined): string | null => {
    if (!n) return null;
    const e = compile(n, scope);
    const v = e.type === 'unknown' ? (e.text ?? null) : e.eval([], 0);
    return v === null ? null : String(v);
  };
  const bool = (n: Node | undefined, dflt: boolean) => {
    if (!n) return dflt;
    const v = coerce(compile(n, scope), 'bool', scope).eval([], 0);
    return v === null ? dflt : Boolean(v);
  };
  const one = (type: EdgeType, value: Value): StatementResult => ({ command: 'SELECT 1', fields: [{ name: label ?? name, type }], rows: [[value]] });

  switch (name) {
    case 'create_hypertable': {
      const table = relation(text(arg(0, 'relation')));
      const dimNode = arg(1, 'dimension') ?? arg(1, 'time_column_name');
      const dimCall = dimNode?.FuncCall as Node | undefined;
      const generalized = dimCall !== undefined && funcName(dimCall) === 'by_range';
      let column: string | null;
      let interval: { node?: Node; text?: string } | undefined;
      if (dimCall && !generalized) throw notAtEdge(`${funcName(dimCall)}() dimensions`);
      if (generalized) {
        const d = callArgs(dimCall!);
        column = text(d.positional[0] ?? d.named.get('column_name'));
        const iv = d.positional[1] ?? d.named.get('partition_interval');
        if (iv) interval = { node: iv };
        if (d.positional[2] ?? d.named.get('partition_func')) throw notAtEdge('partitioning functions');
      } else {
        column = text(dimNode);
        const iv = named.get('chunk_time_interval') ?? positional[6];
        if (iv) interval = { node: iv };
        if (named.get('partitioning_column') ?? positional[2]) throw notAtEdge('space partitioning');
      }
      if (column === null) throw orbitError('invalid_parameter_value', 'partition column cannot be NULL');
      const ifNotExists = bool(generalized ? arg(3, 'if_not_exists') : named.get('if_not_exists') ?? positional[8], false);
      engine.catalog.requireTable(table);
      const existing = engine.catalog.hypertable(table);
      let id: number;
      let created = true;
      if (existing) {
        if (!ifNotExists) throw new OrbitError(TS_HYPERTABLE_EXISTS, `table "${table}" is already a hypertable`);
        id = existing.id;
        created = false;
      } else {
        id = engine.catalog.atomically(() => makeHypertable(engine, table, column!, interval, params));
      }
      return one('record', generalized ? `(${id},${created ? 't' : 'f'})` : `(${id},public,${table},${created ? 't' : 'f'})`);
    }
    case 'set_chunk_time_interval': {
      const h = hypertableOf(engine, text(arg(0, 'hypertable')));
      const iv = arg(1, 'chunk_time_interval');
      if (!iv) throw orbitError('invalid_parameter_value', 'chunk_time_interval cannot be NULL');
      engine.catalog.setChunkInterval(h.id, intervalLength(engine, h.timeType, { node: iv }, params));
      return one('unknown', '');
    }
    case 'show_chunks':
    case 'drop_chunks': {
      const h = hypertableOf(engine, text(arg(0, 'relation')), true);
      const older = cutoff(engine, h, arg(1, 'older_than'), params);
      const newer = cutoff(engine, h, arg(2, 'newer_than'), params);
      for (const k of ['created_before', 'created_after']) if (named.get(k)) throw notAtEdge(`${name}(${k} => ...)`);
      const chunks = engine.catalog.chunks(h.id).filter((c) => (older === undefined || c.rangeEnd <= older) && (newer === undefined || c.rangeStart >= newer));
      if (name === 'drop_chunks') await dropChunks(engine, h, chunks);
      const type: EdgeType = name === 'show_chunks' ? 'regclass' : 'text';
      return { command: `SELECT ${chunks.length}`, fields: [{ name: label ?? name, type }], rows: chunks.map((c) => [chunkName(c)]) };
    }
    case 'compress_chunk':
    case 'convert_to_columnstore': {
      const chunkText = text(arg(0, 'chunk')) ?? '';
      const short = chunkText.replace(/^_timescaledb_internal\./, '');
      const table = engine.catalog.hypertableNames().map((n) => engine.catalog.hypertable(n)!).find((h) => engine.catalog.chunks(h.id).some((c) => c.tableName === short));
      if (!table) throw orbitError('undefined_table', `relation "${chunkText}" does not exist`);
      const chunk = engine.catalog.chunks(table.id).find((c) => c.tableName === short)!;
      await compressChunk(engine, table, chunk);
      return one('regclass', chunkName(chunk));
    }
    case 'add_retention_policy': {
      const h = hypertableOf(engine, text(arg(0, 'relation')));
      const dropAfter = arg(1, 'drop_after');
      if (!dropAfter) throw orbitError('invalid_parameter_value', 'drop_after cannot be NULL');
      for (const k of ['initial_start', 'timezone', 'drop_created_before']) if (named.get(k)) throw notAtEdge(`add_retention_policy(${k} => ...)`);
      // Integer time needs an integer_now function, which the edge does not have.
      if (INTEGER_TYPES.has(h.timeType)) throw notAtEdge('retention policies on integer time columns');
      const after = coerce(compile(dropAfter, scope), 'interval', scope).eval([], 0) as Interval;
      const scheduleNode = named.get('schedule_interval') ?? positional[3];
      const schedule = scheduleNode ? (coerce(compile(scheduleNode, scope), 'interval', scope).eval([], 0) as Interval) : { months: 0, days: 1, micros: 0n };
      const existing = engine.catalog.jobs(RETENTION_PROC).find((j) => j.hypertableId === h.id);
      if (existing) {
        if (!bool(arg(2, 'if_not_exists'), false)) throw orbitError('duplicate_object', `retention policy already exists for hypertable "${h.tableName}"`);
        // TimescaleDB (and the Node profile) answer -1 for a policy that already exists.
        return one('int4', -1);
      }
      const config: RetentionConfig = {
        drop_after: intervalJson(after),
        schedule_interval_us: String(schedule.micros + BigInt(schedule.days) * 86_400_000_000n + BigInt(schedule.months) * 30n * 86_400_000_000n),
        // The first run is due at once, as TimescaleDB schedules a new retention job.
        next_start_ms: Date.now(),
      };
      return one('int4', engine.catalog.addJob(RETENTION_PROC, h.id, config as unknown as Record<string, unknown>));
    }
    case 'remove_retention_policy': {
      const h = hypertableOf(engine, text(arg(0, 'relation')));
      if (engine.catalog.removeJobs(RETENTION_PROC, h.id) === 0 && !bool(arg(1, 'if_exists'), false)) {
        throw orbitError('undefined_object', `retention policy not found for hypertable "${h.tableName}"`);
      }
      return one('unknown', '');
    }
    case 'set_config': {
      const n = text(arg(0, 'setting_name'));
      const v = text(arg(1, 'new_value'));
      if (n === null) throw orbitError('null_value_not_allowed', 'SET requires parameter name');
      if (bool(arg(2, 'is_local'), false)) throw notAtEdge('set_config(..., is_local => true) (no transaction blocks)');
      if (v === null) engine.settings.reset(n);
      else engine.settings.set(n, v);
      return one('text', engine.settings.get(n));
    }
    case 'current_setting':
      return one('text', engine.settings.get(text(arg(0, 'setting_name')) ?? ''));
    case 'route_default_rows':
      // Rows never land in a default partition at the edge: every INSERT routes to its chunk itself.
      return one('unknown', '');
    case 'version':
      return one('text', `PostgreSQL ${engine.settings.get('server_version')} (Orbit edge profile)`);
    default:
      throw notAtEdge(`${name}()`);
  }
}

function relation(name: string | null): string {
  if (name === null) throw orbitError('invalid_parameter_value', 'relation cannot be NULL');
  const parts = name.split('.');
  if (parts.length > 1 && parts[0] !== 'public') throw notAtEdge(`tables outside schema public ("${name}")`);
  return parts[parts.length - 1]!.replace(/^"(.*)"$/, '$1');
}

function hypertableOf(engine: EdgeEngine, name: string | null, orCagg = false): Hypertable {
  const table = relation(name);
  engine.catalog.requireTable(table);
  const h = engine.catalog.hypertable(table);
  if (!h) {
    throw orbitError(orCagg ? 'invalid_parameter_value' : 'undefined_object', orCagg ? `"${table}" is not a hypertable or a continuous aggregate` : `table "${table}" is not a hypertable`);
  }
  return h;
}

export function chunkName(c: Chunk): string {
  return `${CHUNK_SCHEMA}.${c.tableName}`;
}

/** Creates the hypertable; `interval` as a parse-tree node or setting text (defaults: 7 days for time types). */
function makeHypertable(engine: EdgeEngine, table: string, column: string, interval: { node?: Node; text?: string } | undefined, params: Params): number {
  const def = engine.catalog.requireTable(table);
  const col = def.columns.find((c) => c.name === column);
  if (!col) throw orbitError('undefined_column', `column "${column}" does not exist`);
  if (!TIME_TYPES.has(col.type) && !INTEGER_TYPES.has(col.type)) {
    throw orbitError('invalid_parameter_value', `invalid type for dimension "${column}"`, { hint: 'Use an integer, timestamp, or date type.' });
  }
  const length = interval === undefined ? undefined : intervalLength(engine, col.type, interval, params);
  if (length === undefined && INTEGER_TYPES.has(col.type)) throw notAtEdge('integer time columns without an explicit chunk interval');
  return engine.catalog.createHypertable(table, column, col.type, length ?? DEFAULT_INTERVAL_US);
}

/** A chunk interval in internal units: an interval (µs; no months) for time types, an integer otherwise. */
function intervalLength(engine: EdgeEngine, type: EdgeType, interval: { node?: Node; text?: string }, params: Params): number {
  const scope = engine.constantScope(params);
  const node = interval.node ?? { A_Const: { sval: { sval: interval.text } } };
  if (INTEGER_TYPES.has(type)) {
    const v = coerce(compile(node, scope), 'int8', scope).eval([], 0);
    if (v === null || BigInt(v as bigint) <= 0n) throw orbitError('invalid_parameter_value', 'invalid interval: must be between 1 and 9223372036854775807');
    return Number(v);
  }
  const e = compile(node, scope);
  const iv = (INTEGER_TYPES.has(e.type) ? null : coerce(e, 'interval', scope).eval([], 0)) as Interval | null;
  if (iv === null) {
    // An integer for a time column is microseconds, as TimescaleDB reads it.
    return Number(coerce(e, 'int8', scope).eval([], 0));
  }
  if (iv.months !== 0) throw notAtEdge('chunk intervals in months');
  const us = Number(iv.micros) + iv.days * 86_400_000_000;
  if (us <= 0) throw orbitError('invalid_parameter_value', 'invalid interval: must be between 1 and 9223372036854775807');
  return us;
}

/** older_than / newer_than in internal time: an interval counts back from now(), other values are the column's type. */
function cutoff(engine: EdgeEngine, h: Hypertable, node: Node | undefined, params: Params): number | undefined {
  if (!node) return undefined;
  const scope = engine.constantScope(params);
  const e = compile(node, scope);
  if (e.type === 'interval' && !INTEGER_TYPES.has(h.timeType)) {
    const iv = e.eval([], 0) as Interval;
    const t = timestamptzPlusInterval(scope.now, { months: -iv.months, days: -iv.days, micros: -iv.micros }, scope.zone);
    const local = h.timeType === 'timestamptz' ? t : coerce({ type: 'timestamptz', constant: true, eval: () => t }, h.timeType, scope).eval([], 0);
    return toInternal(h.timeType, local as bigint | number);
  }
  const v = coerce(e, h.timeType, scope).eval([], 0);
  if (v === null) return undefined;
  return toInternal(h.timeType, v as bigint | number);
}
