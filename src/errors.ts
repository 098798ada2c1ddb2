/**
 * @module errors
 * One error type for the whole engine. It carries the PostgreSQL ErrorResponse fields so that every
 * transport (in-process, wire, HTTP) reports the same SQLSTATE, message, detail and hint.
 */
import { SqlState, type SqlStateName } from './sqlstate.js';

export type Severity = 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE' | 'DEBUG' | 'INFO' | 'LOG';

export interface OrbitErrorFields {
  severity?: Severity;
  detail?: string;
  hint?: string;
  /** 1-based character position in the statement text, as in ErrorResponse field 'P'. */
  position?: number;
  where?: string;
  schema?: string;
  table?: string;
  column?: string;
  dataType?: string;
  constraint?: string;
  cause?: unknown;
}

export class OrbitError extends Error {
  readonly code: string;
  readonly severity: Severity;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: number;
  readonly where?: string;
  readonly schema?: string;
  readonly table?: string;
  readonly column?: string;
  readonly dataType?: string;
  readonly constraint?: string;

  constructor(code: string, message: string, fields: OrbitErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'OrbitError';
    this.code = code;
    this.severity = fields.severity ?? 'ERROR';
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.position = fields.position;
    this.where = fields.where;
    this.schema = fields.schema;
    this.table = fields.table;
    this.column = fields.column;
    this.dataType = fields.dataType;
    this.constraint = fields.constraint;
  }
}

/** Builds an OrbitError for a named condition, hiding this factory frame from the stack. */
export function orbitError(condition: SqlStateName, message: string, fields?: OrbitErrorFields): OrbitError {
  const err = new OrbitError(SqlState[condition], message, fields);
  Error.captureStackTrace?.(err, orbitError);
  return err;
}

/** What Orbit does not support yet fails clearly with SQLSTATE 0A000, never with a wrong answer. */
export function notSupported(what: string, hint?: string): OrbitError {
  const err = new OrbitError(SqlState.feature_not_supported, `${what} is not supported by Orbit`, { hint });
  Error.captureStackTrace?.(err, notSupported);
  return err;
}

/** Normalises anything thrown (PGlite DatabaseError, parser SqlError, plain Error) into an OrbitError. */
export function toOrbitError(err: unknown): OrbitError {
  if (err instanceof OrbitError) return err;
  if (err && typeof err === 'object') {
    const e = err as Record<string, unknown>;
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.message === 'string') {
      return new OrbitError(e.code, e.message, {
        severity: (e.severity as Severity) ?? 'ERROR',
        detail: e.detail as string | undefined,
        hint: e.hint as string | undefined,
        position: e.position === undefined ? undefined : Number(e.position),
        where: e.where as string | undefined,
        schema: e.schema as string | undefined,
        table: e.table as string | undefined,
        column: e.column as string | undefined,
        dataType: e.dataType as string | undefined,
        constraint: e.constraint as string | undefined,
        cause: err,
      });
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return new OrbitError(SqlState.internal_error, message, { cause: err });
}
