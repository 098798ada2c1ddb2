/**
 * @module edge/settings
 * Run-time settings (GUCs) of the edge engine: the reported parameters PostgreSQL sends in
 * ParameterStatus, TimeZone (which timestamptz input and output use), and the statements that read
 * and change them (SET, RESET, SHOW, set_config, current_setting). Only the output styles the edge
 * formats are accepted: DateStyle ISO and IntervalStyle postgres.
 */
import { orbitError } from '../errors.js';
import { utcOffsetSeconds } from '../functions/time-zone.js';
import type { StatementResult } from './engine.js';
import { compile, type Node, type Scope } from './expr.js';

/** Defaults as PGlite 0.5 (PostgreSQL 18.6) reports them, so both profiles tell clients the same. */
const DEFAULTS: ReadonlyArray<readonly [string, string]> = [
  ['application_name', ''],
  ['client_encoding', 'UTF8'],
  ['DateStyle', 'ISO, MDY'],
  ['default_transaction_read_only', 'off'],
  ['extra_float_digits', '1'],
  ['in_hot_standby', 'off'],
  ['integer_datetimes', 'on'],
  ['IntervalStyle', 'postgres'],
  ['is_superuser', 'on'],
  ['search_path', '"$user", public'],
  ['server_encoding', 'UTF8'],
  ['server_version', '18.6'],
  ['session_authorization', 'postgres'],
  ['standard_conforming_strings', 'on'],
  ['statement_timeout', '0'],
  ['TimeZone', 'UTC'],
];

/** Parameters a client cannot change (PostgreSQL: 55P02 / internal). */
const READ_ONLY = new Set(['server_version', 'server_encoding', 'integer_datetimes', 'in_hot_standby', 'is_superuser', 'session_authorization']);

export class EdgeSettings {
  private readonly values = new Map<string, string>();
  /** Canonical names by lower-case name. */
  private readonly names = new Map(DEFAULTS.map(([n]) => [n.toLowerCase(), n]));
  /** Names set in this session (source = 'session'). */
  readonly changed = new Set<string>();

  constructor() {
    this.resetAll();
  }

  get timeZone(): string {
    return this.values.get('TimeZone')!;
  }

  canonical(name: string): string {
    const n = this.names.get(name.toLowerCase());
    if (!n) throw orbitError('undefined_object', `unrecognized configuration parameter "${name}"`);
    return n;
  }

  get(name: string): string {
    return this.values.get(this.canonical(name))!;
  }

  /** Every parameter with its value and whether the session set it. */
  all(): Array<{ name: string; value: string; session: boolean }> {
    return DEFAULTS.map(([n]) => ({ name: n, value: this.values.get(n)!, session: this.changed.has(n) }));
  }

  set(name: string, value: string): void {
    const n = this.canonical(name);
    if (READ_ONLY.has(n)) throw orbitError('cant_change_runtime_param', `parameter "${n}" cannot be changed`);
    this.values.set(n, this.check(n, value));
    this.changed.add(n);
  }

  reset(name: string): void {
    const n = this.canonical(name);
    this.values.set(n, DEFAULTS.find(([d]) => d === n)![1]);
    this.changed.delete(n);
  }

  resetAll(): void {
    for (const [n, v] of DEFAULTS) this.values.set(n, v);
    this.changed.clear();
  }

  private check(name: string, value: string): string {
    const invalid = () => orbitError('invalid_parameter_value', `invalid value for parameter "${name}": "${value}"`);
    switch (name) {
      case 'TimeZone': {
        if (value.toLowerCase() === 'utc' || value.toLowerCase() === 'gmt') return 'UTC';
        try {
          // Throws RangeError for a zone Intl does not know; PostgreSQL keeps the name as written.
          utcOffsetSeconds(value, 0);
          return value;
        } catch {
          throw invalid();
        }
      }
      case 'DateStyle':
        if (!/^\s*iso\s*(,\s*(mdy|dmy|ymd)\s*)?$/i.test(value)) throw orbitError('feature_not_supported', `DateStyle "${value}" is not supported at the edge (only ISO)`);
        return `ISO, ${(/,\s*(\w+)/.exec(value)?.[1] ?? 'MDY').toUpperCase()}`;
      case 'IntervalStyle':
        if (value.toLowerCase() !== 'postgres') throw orbitError('feature_not_supported', `IntervalStyle "${value}" is not supported at the edge (only postgres)`);
        return 'postgres';
      case 'client_encoding':
        if (!/^utf-?8$|^unicode$/i.test(value)) throw orbitError('feature_not_supported', `client_encoding "${value}" is not supported at the edge (only UTF8)`);
        return 'UTF8';
      case 'extra_float_digits':
        if (!/^-?\d+$/.test(value)) throw invalid();
        if (Number(value) < 1) throw orbitError('feature_not_supported', 'extra_float_digits below 1 is not supported at the edge');
        return value;
      default:
        return value;
    }
  }

  /** SET / RESET / SHOW. */
  run(type: string, node: Node, scope: Scope): StatementResult {
    if (type === 'VariableShowStmt') {
      const name = String(node.name);
      if (name.toLowerCase() === 'all') throw orbitError('feature_not_supported', 'SHOW ALL is not supported at the edge');
      const n = this.canonical(name);
      return { command: 'SHOW', fields: [{ name: n, type: 'text' }], rows: [[this.values.get(n)!]] };
    }
    if (node.is_local) throw orbitError('feature_not_supported', 'SET LOCAL is not supported at the edge (no transaction blocks)');
    switch (node.kind) {
      case 'VAR_SET_VALUE': {
        const args = (node.args as Node[]).map((a) => {
          const e = compile(a, scope);
          const v = e.text ?? e.eval([], 0);
          return String(v);
        });
        this.set(String(node.name), args.join(', '));
        return { command: 'SET', rows: [] };
      }
      case 'VAR_SET_DEFAULT':
      case 'VAR_RESET':
        this.reset(String(node.name));
        return { command: node.kind === 'VAR_RESET' ? 'RESET' : 'SET', rows: [] };
      case 'VAR_RESET_ALL':
        this.resetAll();
        return { command: 'RESET', rows: [] };
      default:
        throw orbitError('feature_not_supported', `SET ${String(node.name ?? '')} is not supported at the edge`);
    }
  }
}
