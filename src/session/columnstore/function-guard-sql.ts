/**
 * @module session/columnstore/function-guard-sql
 * The catalog queries of the function guard (function-guard.ts): which functions are the user's,
 * the names it needs with the columnstore metadata, the routes by which PostgreSQL runs a user
 * function for a statement that does not name it, and the definitions it analyses.
 */
/** SQL condition on `p` (pg_proc), `n` (its pg_namespace), `l` (its pg_language): a function or procedure of the user's. */
export const USER_FUNCTION_SQL =
  "l.lanname IN ('sql', 'plpgsql') AND p.prokind IN ('f', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') " +
  "AND n.nspname NOT LIKE '\\_timescaledb%' AND n.nspname NOT LIKE 'timescaledb\\_%' " +
  "AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')";

const FROM_USER_FUNCTIONS = 'FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang';

/**
 * The metadata's part: the objects through which PostgreSQL runs a user function, or reads a
 * hypertable with compressed chunks (or a view over one), for a statement that names neither —
 * each `[kind, schema, name, what, function schema, function name, relation read]` (see `Route`).
 * pg_depend records what operators, casts, aggregates, column defaults and generated columns,
 * constraints, policies, rules, indexes, triggers and event triggers use; an object using an
 * operator or aggregate that uses a function reaches that function too. A table is written
 * whenever a partition or inheritance child of it, an updatable view over it, or a table its
 * foreign key's action writes is.
 */
const ROUTES_SQL = `(WITH RECURSIVE
  fns AS (SELECT p.oid ${FROM_USER_FUNCTIONS} WHERE ${USER_FUNCTION_SQL}),
  hyper(oid) AS (
    SELECT h.relid FROM _timescaledb_catalog.hypertable h
      WHERE EXISTS (SELECT FROM _timescaledb_catalog.chunk ch WHERE ch.hypertable_id = h.id AND ch.compressed_chunk_id IS NOT NULL AND NOT ch.dropped)
    UNION
    SELECT r.ev_class FROM hyper JOIN pg_depend d ON d.refobjid = hyper.oid AND d.refclassid = 'pg_class'::regclass AND d.classid = 'pg_rewrite'::regclass
      JOIN pg_rewrite r ON r.oid = d.objid WHERE r.ev_type = '1' AND r.ev_class <> hyper.oid),
  reach(classid, objid, fn, rel) AS (
    SELECT d.classid, d.objid, d.refobjid, 0::oid FROM pg_depend d WHERE d.refclassid = 'pg_proc'::regclass AND d.refobjid IN (SELECT oid FROM fns)
    UNION
    SELECT d.classid, d.objid, 0::oid, d.refobjid FROM pg_depend d WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT oid FROM hyper)
      AND d.classid IN ('pg_policy'::regclass, 'pg_rewrite'::regclass) AND d.deptype = 'n'
    UNION
    SELECT d.classid, d.objid, x.fn, x.rel FROM reach x JOIN pg_depend d ON d.refclassid = x.classid AND d.refobjid = x.objid
      WHERE x.classid = 'pg_operator'::regclass OR (x.classid = 'pg_proc'::regclass AND (SELECT a.prokind FROM pg_proc a WHERE a.oid = x.objid) = 'a')),
  tables(kind, rel, what, fn, reads) AS (
    SELECT 'write'::text, ad.adrelid, format('the %s of column "%s" of table "%s"', CASE a.attgenerated WHEN '' THEN 'default' ELSE 'expression' END, a.attname, c.relname), x.fn, x.rel
      FROM reach x JOIN pg_attrdef ad ON x.classid = 'pg_attrdef'::regclass AND ad.oid = x.objid
      JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum JOIN pg_class c ON c.oid = ad.adrelid
    UNION
    SELECT 'write', co.conrelid, format('the constraint "%s" of table "%s"', co.conname, c.relname), x.fn, x.rel
      FROM reach x JOIN pg_constraint co ON x.classid = 'pg_constraint'::regclass AND co.oid = x.objid JOIN pg_class c ON c.oid = co.conrelid
    UNION
    SELECT 'use', pol.polrelid, format('the row-level security policy "%s" of table "%s"', pol.polname, c.relname), x.fn, x.rel
      FROM reach x JOIN pg_policy pol ON x.classid = 'pg_policy'::regclass AND pol.oid = x.objid JOIN pg_class c ON c.oid = pol.polrelid WHERE c.relrowsecurity
    UNION
    -- A view's own rule: views reading a compressed hypertable are refused by statement-plans.ts.
    SELECT CASE r.ev_type WHEN '1' THEN 'use' ELSE 'write' END, r.ev_class, format('the rule "%s" of "%s"', r.rulename, c.relname), x.fn, x.rel
      FROM reach x JOIN pg_rewrite r ON x.classid = 'pg_rewrite'::regclass AND r.oid = x.objid JOIN pg_class c ON c.oid = r.ev_class
      WHERE r.ev_type <> '1' OR x.rel = 0
    UNION
    SELECT 'index', i.indrelid, format('the index "%s" of table "%s"', ic.relname, c.relname), x.fn, x.rel
      FROM reach x JOIN pg_index i ON x.classid = 'pg_class'::regclass AND i.indexrelid = x.objid
      JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
    UNION
    SELECT 'write', tg.tgrelid, format('the trigger "%s" of table "%s"', tg.tgname, c.relname), x.fn, x.rel
      FROM reach x JOIN pg_trigger tg ON x.classid = 'pg_trigger'::regclass AND tg.oid = x.objid JOIN pg_class c ON c.oid = tg.tgrelid
      WHERE NOT tg.tgisinternal AND tg.tgenabled <> 'D'
    UNION
    -- Its checks read the referenced table.
    SELECT 'write', co.conrelid, format('the foreign key "%s" of table "%s"', co.conname, c.relname), 0::oid, co.confrelid
      FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid WHERE co.contype = 'f' AND co.confrelid IN (SELECT oid FROM hyper)
    UNION
    -- A partitioned or inheritance parent's REINDEX rebuilds its children's indexes too.
    SELECT up.kind, up.rel, w.what, w.fn, w.reads FROM tables w CROSS JOIN LATERAL (
      SELECT w.kind AS kind, i.inhparent AS rel FROM pg_inherits i WHERE w.kind IN ('write', 'index') AND i.inhrelid = w.rel
      UNION ALL
      SELECT 'write', co.confrelid FROM pg_constraint co WHERE w.kind IN ('write', 'index') AND co.conrelid = w.rel AND co.contype = 'f'
        AND (co.confdeltype IN ('c', 'n', 'd') OR co.confupdtype IN ('c', 'n', 'd'))
      UNION ALL
      SELECT CASE w.kind WHEN 'index' THEN 'write' ELSE w.kind END, r.ev_class FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
        WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = w.rel AND d.classid = 'pg_rewrite'::regclass AND r.ev_type = '1' AND r.ev_class <> w.rel) up),
  routes(kind, schema, name, what, fn, reads) AS (
    SELECT w.kind, n.nspname, c.relname, w.what, w.fn, w.reads FROM tables w JOIN pg_class c ON c.oid = w.rel JOIN pg_namespace n ON n.oid = c.relnamespace
    UNION
    -- Operators PostgreSQL applies without their names being written (comparisons, operator classes'): any statement.
    SELECT CASE WHEN o2.oprname IN ('=', '<>', '<', '>', '<=', '>=') OR EXISTS (SELECT FROM pg_amop am WHERE am.amopopr = o2.oid) THEN 'any' ELSE 'operator' END,
        NULL, o2.oprname, format('the operator %s', o.oid::regoperator), x.fn, x.rel
      FROM reach x JOIN pg_operator o ON x.classid = 'pg_operator'::regclass AND o.oid = x.objid JOIN pg_operator o2 ON o2.oid IN (o.oid, o.oprcom, o.oprnegate)
    UNION
    SELECT 'aggregate', n.nspname, lower(a.proname), format('the aggregate %s', a.oid::regprocedure), x.fn, x.rel
      FROM reach x JOIN pg_proc a ON x.classid = 'pg_proc'::regclass AND a.oid = x.objid AND a.prokind = 'a' JOIN pg_namespace n ON n.oid = a.pronamespace
    UNION
    SELECT 'any', NULL, NULL, format('the constraint "%s" of domain %s', co.conname, co.contypid::regtype), x.fn, x.rel
      FROM reach x JOIN pg_constraint co ON x.classid = 'pg_constraint'::regclass AND co.oid = x.objid AND co.contypid <> 0
    UNION
    SELECT 'all', NULL, NULL, format('the event trigger "%s"', e.evtname), x.fn, x.rel
      FROM reach x JOIN pg_event_trigger e ON x.classid = 'pg_event_trigger'::regclass AND e.oid = x.objid WHERE e.evtenabled <> 'D'
    UNION
    -- Casts (applied without being written, too), operator families, types' functions, …: any statement.
    SELECT 'any', NULL, NULL, pg_describe_object(x.classid, x.objid, 0), x.fn, x.rel FROM reach x
      WHERE x.classid NOT IN ('pg_attrdef'::regclass, 'pg_constraint'::regclass, 'pg_policy'::regclass, 'pg_rewrite'::regclass, 'pg_trigger'::regclass,
          'pg_operator'::regclass, 'pg_event_trigger'::regclass, 'pg_proc'::regclass)
        AND NOT (x.classid = 'pg_class'::regclass AND EXISTS (SELECT FROM pg_index i WHERE i.indexrelid = x.objid)))
  -- An operator's own function first, then its commutator's and negator's: what a refusal names.
  SELECT json_agg(json_build_array(q.kind, q.schema, q.name, q.what, pn.nspname, p.proname, rc.relname)
      ORDER BY NOT coalesce(starts_with(q.what, 'the operator ' || q.name || '('), false)) FROM routes q
    LEFT JOIN pg_proc p ON p.oid = q.fn LEFT JOIN pg_namespace pn ON pn.oid = p.pronamespace LEFT JOIN pg_class rc ON rc.oid = q.reads)`;

/**
 * Whether `ROUTES_SQL` may find any route (cheap: the dependencies on functions created after
 * initdb, the user's policies and non-SELECT rules, foreign keys referencing hypertables), so that
 * it is read only then. A trigger
 * calling its function is the guard's already (`triggered`): it counts when a WHEN condition
 * calls one, or its table is written through another (a partition's parent, a view, a foreign
 * key's action).
 */
const ROUTED_SQL = `(EXISTS (SELECT FROM pg_depend d JOIN pg_proc p ON p.oid = d.refobjid JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
      WHERE d.refclassid = 'pg_proc'::regclass AND d.refobjid >= 16384 AND ${USER_FUNCTION_SQL}
        AND CASE d.classid
          WHEN 'pg_proc'::regclass THEN (SELECT a.prokind FROM pg_proc a WHERE a.oid = d.objid) = 'a'
          -- A view calling a function is the guard's already (viewCalls).
          WHEN 'pg_rewrite'::regclass THEN (SELECT r.ev_type <> '1' FROM pg_rewrite r WHERE r.oid = d.objid)
          WHEN 'pg_trigger'::regclass THEN (SELECT tg.tgfoid <> d.refobjid OR EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = tg.tgrelid)
              OR EXISTS (SELECT FROM pg_constraint co WHERE co.conrelid = tg.tgrelid AND co.contype = 'f')
              OR EXISTS (SELECT FROM pg_depend v WHERE v.refclassid = 'pg_class'::regclass AND v.refobjid = tg.tgrelid AND v.classid = 'pg_rewrite'::regclass)
            FROM pg_trigger tg WHERE tg.oid = d.objid)
          ELSE true END)
    OR EXISTS (SELECT FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relrowsecurity AND n.nspname NOT LIKE '\\_timescaledb%' AND n.nspname NOT LIKE 'timescaledb\\_%')
    OR EXISTS (SELECT FROM pg_rewrite r WHERE r.ev_type <> '1' AND r.oid >= 16384)
    OR EXISTS (SELECT FROM pg_constraint co JOIN _timescaledb_catalog.hypertable h ON h.relid = co.confrelid WHERE co.contype = 'f'))`;

/** The routes (`ROUTES_SQL`), read when the metadata says there may be some (`ROUTED_SQL`). */
export const ROUTES_QUERY = `SELECT ${ROUTES_SQL}`;

/**
 * The metadata's part (a JSON object's fields): names of user functions, of tables with triggers
 * calling them, and views calling them (directly or through the views they read; pg_depend).
 */
export const FUNCTION_NAMES_SQL =
  `'functions', (SELECT json_agg(DISTINCT lower(p.proname)) ${FROM_USER_FUNCTIONS} WHERE ${USER_FUNCTION_SQL}), ` +
  `'triggered', (SELECT json_agg(DISTINCT c.relname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid ` +
  `JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND ${USER_FUNCTION_SQL}), ` +
  `'viewCalls', (WITH RECURSIVE calls(view, fn) AS (
      SELECT r.ev_class, p.oid FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_proc p ON p.oid = d.refobjid
        JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_proc'::regclass AND ${USER_FUNCTION_SQL}
      UNION
      SELECT r.ev_class, calls.fn FROM calls JOIN pg_depend d ON d.refobjid = calls.view AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
        JOIN pg_rewrite r ON r.oid = d.objid WHERE r.ev_class <> calls.view)
    SELECT json_agg(json_build_array(c.relname, n.nspname, p.proname)) FROM calls JOIN pg_class c ON c.oid = calls.view
      JOIN pg_proc p ON p.oid = calls.fn JOIN pg_namespace n ON n.oid = p.pronamespace WHERE c.relkind IN ('v', 'm')), ` +
  `'routed', ${ROUTED_SQL}`;

/** Definitions of the user's functions, the triggers calling them, the jobs' procedures. */
export const FUNCTIONS_SQL = `SELECT json_build_object(
  'functions', (SELECT json_agg(json_build_array(n.nspname, p.proname, p.prokind, l.lanname, pg_get_functiondef(p.oid))) ${FROM_USER_FUNCTIONS} WHERE ${USER_FUNCTION_SQL}),
  'triggers', (SELECT json_agg(json_build_array(cn.nspname, c.relname, n.nspname, p.proname)) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace cn ON cn.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'),
  'jobs', (SELECT json_agg(json_build_array(j.id, j.proc_schema, j.proc_name)) FROM _timescaledb_config.bgw_job j))`;
