/** The SQLSTATE `run` fails with (undefined: it succeeds). */
export async function sqlstate(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

/**
 * What `db` answers to `sql` run in a transaction rolled back after it (writes leave the data as
 * it was): `ok` of its result, or its SQLSTATE.
 */
export async function rolledBack<R, T>(db: { exec(sql: string): Promise<unknown>; query(sql: string): Promise<R> }, sql: string, ok: (result: R) => T): Promise<T | { code: string }> {
  await db.exec('BEGIN');
  try {
    return ok(await db.query(sql));
  } catch (e) {
    return { code: (e as { code: string }).code };
  } finally {
    await db.exec('ROLLBACK');
  }
}
