/**
 * @module sqlstate
 * PostgreSQL error codes (Appendix A of the PostgreSQL manual), keyed by condition name.
 * Every SQLSTATE Orbit raises comes from here; none is written inline elsewhere.
 */
export const SqlState = {
  successful_completion: '00000',
  warning: '01000',
  connection_exception: '08000',
  connection_does_not_exist: '08003',
  connection_failure: '08006',
  protocol_violation: '08P01',
  feature_not_supported: '0A000',
  invalid_authorization_specification: '28000',
  invalid_password: '28P01',
  invalid_transaction_state: '25000',
  idle_in_transaction_session_timeout: '25P03',
  syntax_error: '42601',
  undefined_object: '42704',
  undefined_function: '42883',
  duplicate_object: '42710',
  invalid_parameter_value: '22023',
  numeric_value_out_of_range: '22003',
  datetime_field_overflow: '22008',
  invalid_text_representation: '22P02',
  bad_copy_file_format: '22P04',
  invalid_binary_representation: '22P03',
  query_canceled: '57014',
  admin_shutdown: '57P01',
  cannot_connect_now: '57P03',
  too_many_connections: '53300',
  out_of_memory: '53200',
  undefined_file: '58P01',
  io_error: '58030',
  internal_error: 'XX000',
  data_corrupted: 'XX001',
  program_limit_exceeded: '54000',
  invalid_sql_statement_name: '26000',
  duplicate_prepared_statement: '42P05',
  undefined_column: '42703',
  undefined_table: '42P01',
  ambiguous_parameter: '42P08',
  object_not_in_prerequisite_state: '55000',
  object_in_use: '55006',
  disk_full: '53100',
} as const;

export type SqlStateName = keyof typeof SqlState;
export type SqlStateCode = (typeof SqlState)[SqlStateName];
