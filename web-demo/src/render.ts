/**
 * @module web-demo/render
 * Small DOM helpers: elements, result tables, PostgreSQL errors and values as text. Rows arrive as
 * structured clones from the worker, so values are JS types (Date, bigint, Uint8Array, parsed jsonb).
 */
import type { QueryResult } from './orbit-client.js';

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from index.html`);
  return node as T;
}

/** A value as psql would roughly print it; NULL is left to the caller's styling. */
export function formatValue(v: unknown): string {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  if (v instanceof Uint8Array) return `\\x${[...v].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
  if (typeof v === 'object' && v !== null) return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

export function formatBytes(n: unknown): string {
  const bytes = Number(n ?? 0);
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(0)} kB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

/** Rows shown per result; the rest is counted, not drawn (a console SELECT may return millions). */
const MAX_ROWS = 200;

export function resultTable(result: QueryResult, className = 'result'): HTMLTableElement {
  const names = result.fields.map((f) => f.name);
  const head = el('tr', {}, ...names.map((n) => el('th', {}, n)));
  const body = result.rows.slice(0, MAX_ROWS).map((row) =>
    el(
      'tr',
      {},
      ...names.map((n) => {
        const v = row[n];
        return v === null || v === undefined ? el('td', { class: 'null' }, 'NULL') : el('td', {}, formatValue(v));
      }),
    ),
  );
  return el('table', { class: className }, el('thead', {}, head), el('tbody', {}, ...body));
}

/** What psql prints under a result: the row count, or the rows a command changed. */
export function resultSummary(result: QueryResult): string {
  if (result.fields.length > 0) {
    const n = result.rows.length;
    const shown = n > MAX_ROWS ? ` (first ${MAX_ROWS} shown)` : '';
    return `(${n} row${n === 1 ? '' : 's'})${shown}`;
  }
  return result.affectedRows ? `OK, ${result.affectedRows} row${result.affectedRows === 1 ? '' : 's'} affected` : 'OK';
}

export interface PgError {
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: number;
}

export function isPgError(err: unknown): err is PgError {
  return typeof err === 'object' && err !== null && typeof (err as PgError).code === 'string' && typeof (err as PgError).message === 'string';
}

/** An error block: `ERROR: <SQLSTATE>: <message>`, then DETAIL/HINT, and a caret under `position`. */
export function errorBlock(err: unknown, sql?: string): HTMLElement {
  const e: PgError = isPgError(err) ? err : { code: 'XX000', message: err instanceof Error ? err.message : String(err) };
  const lines = [`ERROR:  ${e.code}: ${e.message}`];
  if (e.detail) lines.push(`DETAIL:  ${e.detail}`);
  if (e.hint) lines.push(`HINT:  ${e.hint}`);
  if (sql !== undefined && e.position !== undefined) {
    // psql's caret: the line holding the 1-based character position, and a ^ under it.
    const before = sql.slice(0, e.position - 1);
    const lineStart = before.lastIndexOf('\n') + 1;
    const lineEnd = sql.indexOf('\n', e.position - 1);
    const line = sql.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
    lines.push(`LINE:  ${line}`, `${' '.repeat(7 + before.length - lineStart)}^`);
  }
  return el('pre', { class: 'error', 'data-sqlstate': e.code }, lines.join('\n'));
}
