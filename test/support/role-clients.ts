/** node-postgres clients logged in as given roles (test/session/roles.test.ts, chunk-privileges.test.ts). */
import pg from 'pg';

/** Clients of the server on `port()`, each logged in as a role; `closeAll` ends every one opened. */
export function roleClients(port: () => number): { connect(user: string): Promise<pg.Client>; closeAll(): Promise<void> } {
  const opened: pg.Client[] = [];
  return {
    async connect(user) {
      const c = new pg.Client({ host: '127.0.0.1', port: port(), user, database: 'postgres' });
      await c.connect();
      opened.push(c);
      return c;
    },
    async closeAll() {
      for (const c of opened) await c.end().catch(() => undefined);
    },
  };
}

/** The SQLSTATE and message `p` fails with (it must fail). */
export async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; message: string };
    return { code: e.code, message: e.message };
  }
  throw new Error('expected the statement to fail');
}
