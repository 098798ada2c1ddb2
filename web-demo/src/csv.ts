/**
 * @module web-demo/csv
 * Reads a CSV file of readings for the import: RFC 4180 fields (quotes, doubled quotes, CRLF), a
 * header row naming `time`, `sensor` and `value` in any order (other columns are ignored). Values
 * stay text: PostgreSQL casts them in the INSERT, so its own parsing rules and errors apply.
 */

export interface CsvColumns {
  readonly time: string[];
  readonly sensor: string[];
  readonly value: string[];
}

export class CsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvError';
  }
}

/** Splits CSV text into records of fields. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      field = '';
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
    } else field += ch;
  }
  if (quoted) throw new CsvError('unterminated quoted field at the end of the file');
  record.push(field);
  if (record.length > 1 || record[0] !== '') records.push(record);
  return records;
}

/** The time, sensor and value columns of a CSV file with a header row. */
export function readingsFromCsv(text: string): CsvColumns {
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new CsvError('the file is empty');
  const names = header.map((h) => h.trim().toLowerCase());
  const index = (name: string) => {
    const at = names.indexOf(name);
    if (at < 0) throw new CsvError(`the header has no "${name}" column (expected time, sensor, value; found ${header.join(', ')})`);
    return at;
  };
  const [ti, si, vi] = [index('time'), index('sensor'), index('value')];
  const out: CsvColumns = { time: [], sensor: [], value: [] };
  rows.forEach((row, n) => {
    if (row.length !== header.length) throw new CsvError(`line ${n + 2} has ${row.length} fields, the header ${header.length}`);
    out.time.push(row[ti]!.trim());
    out.sensor.push(row[si]!);
    out.value.push(row[vi]!.trim());
  });
  return out;
}
