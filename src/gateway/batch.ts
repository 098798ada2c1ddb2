/**
 * @module gateway/batch
 * A batch of rows as the forwarder reads and sends it: values in PostgreSQL's text forms, one array
 * per column, and a checksum that identifies the batch's content on both sides.
 */

export interface Batch {
  readonly batchId: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly rows: number;
  readonly checksum: string;
  /** One array per forwarded column: PostgreSQL text forms, null for NULL. */
  readonly values: (string | null)[][];
}

// Output forms that every PostgreSQL parses back to the same value, whatever the session's settings
// (DateStyle 'SQL, DMY' or extra_float_digits = 0 would not round-trip).
export const TEXT_SETTINGS = [
  `SET LOCAL DateStyle = 'ISO, YMD'`,
  `SET LOCAL IntervalStyle = 'postgres'`,
  `SET LOCAL extra_float_digits = 1`,
  `SET LOCAL bytea_output = 'hex'`,
];

/** Turns rows read in sequence order into a batch; undefined when there are none. */
export async function toBatch(batchId: number, rows: Record<string, string | null>[], width: number): Promise<Batch | undefined> {
  if (rows.length === 0) return undefined;
  const values: (string | null)[][] = Array.from({ length: width }, () => new Array<string | null>(rows.length));
  // Length-prefixed fields, so no value can imitate a separator or a NULL.
  const parts: string[] = [];
  rows.forEach((row, i) => {
    parts.push(`${row.seq}`);
    for (let c = 0; c < width; c++) {
      const v = row[`c${c}`] ?? null;
      values[c]![i] = v;
      parts.push(v === null ? 'N' : `${v.length}:${v}`);
    }
    parts.push('\n');
  });
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(parts.join('|')));
  const checksum = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  return { batchId, firstSeq: Number(rows[0]!.seq), lastSeq: Number(rows[rows.length - 1]!.seq), rows: rows.length, checksum, values };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
