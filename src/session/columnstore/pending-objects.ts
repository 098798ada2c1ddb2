/**
 * @module session/columnstore/pending-objects
 * What the statements of one query string create that the function guard must know before any of
 * them runs — the catalog it reads describes the database before the string: functions, and the
 * objects through which PostgreSQL runs SQL for later statements that do not name it (operators,
 * aggregates, casts, domains, event triggers, a table's triggers, rules, policies, defaults,
 * constraints and indexes, views). Read from the statements' own parse trees
 * (session/columnstore/function-guard.ts checks them as it checks the catalog's).
 */
import type { ClassifiedStatement } from '../../sql/classify.js';
import { emptyUses, merge, nameOf, statementUses, type NameRef, type SqlUses } from '../../sql/function-bodies.js';
import type { Definition, Route } from './function-guard.js';

/**
 * Statements that may create objects running user functions for statements not naming them,
 * beyond a table's own (operators, aggregates, casts, domains, operator classes, event triggers).
 */
export const CREATES_ROUTES = new Set([
  'DefineStmt',
  'CreateCastStmt',
  'CreateDomainStmt',
  'AlterDomainStmt',
  'CreateOpClassStmt',
  'CreateOpFamilyStmt',
  'AlterOpFamilyStmt',
  'AlterOperatorStmt',
  'CreateRangeStmt',
  'CreateTransformStmt',
  'CreateEventTrigStmt',
  'AlterEventTrigStmt',
]);

/** Statement types `pendingObjects` reads (their objects change what the guard must know: the metadata is read again after them). */
export const CREATING = new Set([
  ...CREATES_ROUTES,
  'CreateFunctionStmt',
  'CreateTrigStmt',
  'RuleStmt',
  'CreatePolicyStmt',
  'AlterPolicyStmt',
  'IndexStmt',
  'CreateStmt',
  'AlterTableStmt',
  'ViewStmt',
]);

/** ALTER TABLE subcommands after which existing objects of the catalog start to run for the table. */
const ENABLES_POLICIES = new Set(['AT_EnableRowSecurity', 'AT_ForceRowSecurity']);
const ENABLES_WRITE_ROUTES = new Set([
  'AT_AttachPartition',
  'AT_AddInherit',
  'AT_EnableTrig',
  'AT_EnableAlwaysTrig',
  'AT_EnableReplicaTrig',
  'AT_EnableTrigAll',
  'AT_EnableTrigUser',
  'AT_EnableRule',
  'AT_EnableAlwaysRule',
  'AT_EnableReplicaRule',
]);

/** Operators PostgreSQL applies without their names being written (see function-guard.ts's ROUTES_SQL). */
const IMPLICIT_OPERATORS = new Set(['=', '<>', '<', '>', '<=', '>=']);

const EARLIER = 'created earlier in the same query string';

type Fields = Record<string, unknown>;

/** What the expressions under `fields` (not the statement's own target) use. */
function usesOf(fields: Fields, keys: readonly string[]): SqlUses {
  const uses = emptyUses();
  for (const key of keys) {
    const value = fields[key];
    if (value === undefined || value === null) continue;
    merge(uses, statementUses(key, { [key]: value }));
  }
  return uses;
}

/** Tables that foreign keys under `value` reference: writes check rows there. */
function referenced(value: unknown, out: NameRef[] = []): NameRef[] {
  if (Array.isArray(value)) {
    for (const item of value) referenced(item, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value as Fields)) {
      const table = key === 'pktable' ? relation(child) : undefined;
      if (table) out.push(table);
      else referenced(child, out);
    }
  }
  return out;
}

/** SQL whose effect cannot be read from the string: an object of the catalog it enables. */
function opaque(what: string): SqlUses {
  return { ...emptyUses(), opaque: what };
}

function relation(value: unknown): NameRef | undefined {
  const rv = value as { schemaname?: string; relname?: string } | undefined;
  if (!rv?.relname) return undefined;
  return rv.schemaname ? { schema: rv.schemaname, name: rv.relname } : { name: rv.relname };
}

/** The functions a definition's elements or object references name (CREATE OPERATOR/AGGREGATE, casts, operator classes, …). */
function namedFunctions(value: unknown, defnames: ReadonlySet<string> | undefined, out: NameRef[] = []): NameRef[] {
  if (Array.isArray(value)) {
    for (const item of value) namedFunctions(item, defnames, out);
  } else if (value !== null && typeof value === 'object') {
    const fields = value as Fields;
    const element = fields.DefElem as { defname?: string; arg?: Fields } | undefined;
    if (element) {
      if (defnames === undefined || defnames.has(element.defname ?? '')) {
        const arg = element.arg;
        const name = nameOf((arg?.TypeName as { names?: unknown } | undefined)?.names ?? (arg?.List as { items?: unknown } | undefined)?.items);
        if (name) out.push(name);
      }
      return out;
    }
    const object = fields.ObjectWithArgs as { objname?: unknown } | undefined;
    const name = object ? nameOf(object.objname) : undefined;
    if (name) out.push(name);
    for (const child of Object.values(fields)) namedFunctions(child, defnames, out);
  }
  return out;
}

const OPERATOR_FUNCTION = new Set(['function', 'procedure']);
const AGGREGATE_FUNCTIONS = new Set(['sfunc', 'finalfunc', 'combinefunc', 'serialfunc', 'deserialfunc', 'msfunc', 'minvfunc', 'mfinalfunc']);

/** What a statement of the string creates, and its position there (it reaches only later statements). */
export interface Pending<T> {
  readonly at: number;
  readonly object: T;
}

/** The functions (their own text as definition) and routes that `statements` create. */
export function pendingObjects(statements: readonly ClassifiedStatement[]): { definitions: Array<Pending<Definition>>; routes: Array<Pending<Route>> } {
  const definitions: Array<Pending<Definition>> = [];
  const routes: Array<Pending<Route>> = [];
  let at = 0;
  const route = (kind: Route['kind'], name: string | undefined, what: string, uses: SqlUses, schema?: string): void => {
    routes.push({ at, object: { kind, what: `${what} ${EARLIER}`, uses, ...(name !== undefined ? { name } : {}), ...(schema !== undefined ? { schema } : {}) } });
  };
  const calling = (calls: NameRef[]): SqlUses => ({ ...emptyUses(), calls });
  for (const [i, s] of statements.entries()) {
    at = i;
    const node = s.node;
    switch (s.type) {
      case 'CreateFunctionStmt': {
        const name = nameOf(node.funcname);
        if (!name) break;
        const language = (node.options as Array<{ DefElem?: { defname?: string; arg?: { String?: { sval?: string } } } }> | undefined)?.find((o) => o.DefElem?.defname === 'language')?.DefElem?.arg?.String?.sval;
        // Schema '' when not written: it matches calls in any schema.
        definitions.push({ at, object: { schema: name.schema ?? '', name: name.name, procedure: node.is_procedure === true, language: (language ?? 'sql').toLowerCase(), text: s.text } });
        break;
      }
      case 'DefineStmt': {
        const name = nameOf(node.defnames)?.name;
        if (!name) break;
        if (node.kind === 'OBJECT_OPERATOR') {
          route(IMPLICIT_OPERATORS.has(name) ? 'any' : 'operator', name, `the operator ${name}`, calling(namedFunctions(node.definition, OPERATOR_FUNCTION)));
        } else if (node.kind === 'OBJECT_AGGREGATE') {
          route('aggregate', name.toLowerCase(), `the aggregate "${name}"`, calling(namedFunctions(node.definition, AGGREGATE_FUNCTIONS)));
        }
        break;
      }
      case 'CreateEventTrigStmt': {
        const fn = nameOf(node.funcname);
        route('all', undefined, `the event trigger "${String(node.trigname)}"`, calling(fn ? [fn] : []));
        break;
      }
      case 'CreateDomainStmt':
      case 'AlterDomainStmt':
        route('any', undefined, 'a domain constraint', usesOf(node, ['constraints', 'def']));
        break;
      case 'CreateCastStmt':
      case 'CreateOpClassStmt':
      case 'CreateOpFamilyStmt':
      case 'AlterOpFamilyStmt':
      case 'AlterOperatorStmt':
      case 'CreateRangeStmt':
      case 'CreateTransformStmt':
        route('any', undefined, `an object (${s.type})`, calling(namedFunctions(node, undefined)));
        break;
      case 'CreateTrigStmt': {
        const table = relation(node.relation);
        const fn = nameOf(node.funcname);
        const uses = usesOf(node, ['whenClause']);
        if (fn) uses.calls.push(fn);
        if (table) route('write', table.name, `the trigger "${String(node.trigname)}"`, uses, table.schema);
        break;
      }
      case 'RuleStmt': {
        const table = relation(node.relation);
        if (table) route(node.event === 'CMD_SELECT' ? 'use' : 'write', table.name, `the rule "${String(node.rulename)}"`, usesOf(node, ['whereClause', 'actions']), table.schema);
        break;
      }
      case 'CreatePolicyStmt':
      case 'AlterPolicyStmt': {
        const table = relation(node.table);
        if (table) route('use', table.name, `the policy "${String(node.policy_name)}"`, usesOf(node, ['qual', 'with_check']), table.schema);
        break;
      }
      case 'IndexStmt': {
        const table = relation(node.relation);
        if (table) route('index', table.name, 'an index', usesOf(node, ['indexParams', 'whereClause']), table.schema);
        break;
      }
      case 'CreateStmt': {
        const table = relation(node.relation);
        const uses = usesOf(node, ['tableElts', 'constraints']);
        uses.relations.push(...referenced([node.tableElts, node.constraints]));
        if (table) route('write', table.name, `the defaults and constraints of table "${table.name}"`, uses, table.schema);
        break;
      }
      case 'ViewStmt': {
        const view = relation(node.view);
        if (view) route('use', view.name, `the view "${view.name}"`, usesOf(node, ['query']), view.schema);
        break;
      }
      case 'AlterTableStmt': {
        const table = relation(node.relation);
        if (!table) break;
        const subtypes = ((node.cmds as Array<{ AlterTableCmd?: { subtype?: string } }> | undefined) ?? []).map((c) => c.AlterTableCmd?.subtype ?? '');
        const uses = usesOf(node, ['cmds']);
        uses.relations.push(...referenced(node.cmds));
        route('write', table.name, `a change of table "${table.name}"`, uses, table.schema);
        if (subtypes.some((t) => ENABLES_POLICIES.has(t))) route('use', table.name, `row-level security of table "${table.name}"`, opaque('policies enabled'), table.schema);
        if (subtypes.some((t) => ENABLES_WRITE_ROUTES.has(t))) route('write', table.name, `a change of table "${table.name}"`, opaque('triggers, rules or partitions it enables'), table.schema);
        break;
      }
    }
  }
  return { definitions, routes };
}
