/**
 * @module catalog/extension/errcodes
 * The SQLSTATEs the hypertable functions raise, by name: PostgreSQL's from src/sqlstate.ts, plus the
 * ones PostgreSQL's table there does not list yet and TimescaleDB's own `TSxxx` codes
 * (`src/errors.h`, timescale_api.md §3). Interpolated into the SQL, so no code is written inline.
 */
import { SqlState } from '../../sqlstate.js';

export const ErrCode = {
  feature_not_supported: SqlState.feature_not_supported,
  invalid_parameter_value: SqlState.invalid_parameter_value,
  internal_error: SqlState.internal_error,
  syntax_error: SqlState.syntax_error,
  object_not_in_prerequisite_state: SqlState.object_not_in_prerequisite_state,
  // PostgreSQL Appendix A.
  insufficient_privilege: '42501',
  duplicate_object: SqlState.duplicate_object,
  undefined_object: '42704',
  undefined_function: '42883',
  name_too_long: '42622',
  invalid_function_definition: '42P13',
  undefined_column: '42703',
  wrong_object_type: '42809',
  ambiguous_parameter: '42P08',
  invalid_table_definition: '42P16',
  // TimescaleDB src/errors.h.
  ts_hypertable_not_exist: 'TS001',
  ts_dimension_not_exist: 'TS002',
  ts_operation_not_supported: 'TS101',
  ts_bad_hypertable_index_definition: 'TS103',
  ts_hypertable_exists: 'TS110',
  ts_duplicate_dimension: 'TS160',
  // Raised when an integer policy runs without an integer_now function.
  ts_internal_error: 'TS501',
} as const;

export type ErrCode = (typeof ErrCode)[keyof typeof ErrCode];
