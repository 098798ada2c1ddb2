/**
 * The golden SQL runner: every `test/golden/<area>/<name>.sql` is played, statement by statement,
 * through the real `pg` client (simple query protocol) against a fresh in-process Orbit server, and
 * each statement's result is compared with its block in `<name>.out` (format: test/support/golden.ts).
 *
 * `UPDATE_GOLDEN=1 npx vitest run test/golden` writes the .out files from what Orbit answers instead.
 * That is a drafting aid only: the expected values are TimescaleDB's documented behaviour, so every
 * line written that way must be checked against timescale_api.md / the TimescaleDB docs before it is
 * committed.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBlocks, formatResult, parseOut, splitStatements, type GoldenBlock, type GoldenResult } from '../support/golden.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function sqlFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return sqlFiles(path);
      return name.endsWith('.sql') ? [path] : [];
    })
    .sort();
}

/** Every value as PostgreSQL's text output: no client-side parsing. */
const rawText = { getTypeParser: () => (value: string) => value };

async function run(client: pg.Client, sql: string): Promise<GoldenResult> {
  try {
    const r = await client.query({ text: sql, rowMode: 'array', types: rawText as never });
    if (r.fields.length === 0) return { kind: 'ok', command: r.command, rowCount: r.rowCount };
    return { kind: 'rows', columns: r.fields.map((f) => f.name), rows: r.rows as Array<Array<string | null>> };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code !== 'string') throw err;
    return { kind: 'error', code };
  }
}

for (const file of sqlFiles(ROOT)) {
  const name = relative(ROOT, file);
  const outPath = file.replace(/\.sql$/, '.out');
  const statements = splitStatements(readFileSync(file, 'utf8'));
  const expected = existsSync(outPath) ? parseOut(readFileSync(outPath, 'utf8')) : undefined;

  describe(`golden ${name}`, () => {
    let server: TestServer;
    let client: pg.Client;
    const actual: GoldenBlock[] = [];

    beforeAll(async () => {
      // Jobs run only through CALL run_job, so results do not depend on timing (TimescaleDB's own
      // regression tests stop the background workers the same way).
      server = await startTestServer({ jobScheduler: false });
      client = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
      await client.connect();
    });

    afterAll(async () => {
      await client?.end();
      await server?.close();
      if (UPDATE && actual.length === statements.length) writeFileSync(outPath, formatBlocks(actual));
    });

    if (!UPDATE) {
      it('has an expected output for every statement', () => {
        expect(expected, `${relative(process.cwd(), outPath)} is missing`).toBeDefined();
        expect(expected!.map((b) => b.statement)).toEqual(statements.map((s) => s.sql));
      });
    }

    statements.forEach((statement, i) => {
      const title = `line ${statement.line}: ${statement.sql.split('\n')[0]!.slice(0, 100)}`;
      it(title, async () => {
        const result = formatResult(await run(client, statement.sql));
        actual.push({ statement: statement.sql, result });
        if (!UPDATE) expect(result).toBe(expected?.[i]?.result);
      });
    });
  });
}
