/**
 * @module gateway/remote
 * Where a gateway forwards to: anything that runs statements in one transaction on a PostgreSQL
 * server (an `orbit serve` instance or any PostgreSQL). `clientRemote` builds one over a
 * node-postgres-shaped client, so the same code serves node-postgres in Node (remote-pg-node.ts) and
 * a WebSocket driver such as `@neondatabase/serverless` in a browser.
 */

/** Statements inside one remote transaction. */
export interface RemoteTransaction {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
}

export interface Remote {
  /**
   * Runs `fn` between BEGIN and COMMIT and resolves only once the server acknowledged the COMMIT.
   * A rejection says nothing about whether the COMMIT happened (the acknowledgement may be what was
   * lost); the forwarder's batch ids make a retry safe either way.
   */
  transaction<T>(fn: (tx: RemoteTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The part of node-postgres' `Client` (and the Neon serverless driver's) that `clientRemote` uses. */
export interface PgLikeClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface ClientRemoteOptions {
  /**
   * Longest wait for a connection or one statement (default 30,000 ms). A link that drops packets
   * silently would otherwise leave a statement waiting for ever; on timeout the connection is
   * abandoned and the transaction counts as failed.
   */
  readonly timeoutMs?: number;
}

/** Thrown when the remote did not answer within `timeoutMs`. */
export class RemoteTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`remote ${what} did not finish within ${ms} ms`);
    this.name = 'RemoteTimeout';
  }
}

/**
 * A Remote over one connection at a time, opened on first use and after every failure: a
 * connection whose transaction failed is in an unknown state (it may be half-closed, or still
 * inside the transaction), so it is never reused.
 */
export function clientRemote(connect: () => Promise<PgLikeClient>, options: ClientRemoteOptions = {}): Remote {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let current: { client: PgLikeClient; broken: boolean } | undefined;

  const discard = (entry: { client: PgLikeClient; broken: boolean }) => {
    entry.broken = true;
    if (current === entry) current = undefined;
    // end() on a dead socket may never settle; nothing waits for it.
    void withTimeout(entry.client.end(), timeoutMs, 'disconnect').catch(() => undefined);
  };

  const open = async () => {
    if (current && !current.broken) return current;
    const client = await withTimeout(connect(), timeoutMs, 'connect');
    const entry = { client, broken: false };
    // An idle connection that drops emits 'error'; unhandled, it would end the process.
    client.on('error', () => discard(entry));
    current = entry;
    return entry;
  };

  return {
    async transaction<T>(fn: (tx: RemoteTransaction) => Promise<T>): Promise<T> {
      const entry = await open();
      const run = async <Row>(sql: string, params?: unknown[]) => {
        if (entry.broken) throw new Error('the remote connection was lost');
        const result = await withTimeout(entry.client.query(sql, params), timeoutMs, 'statement');
        return { rows: result.rows as Row[] };
      };
      try {
        await run('BEGIN');
        const value = await fn({ query: run });
        await run('COMMIT');
        return value;
      } catch (err) {
        discard(entry);
        throw err;
      }
    },
    async close() {
      if (current) {
        const entry = current;
        current = undefined;
        entry.broken = true;
        await withTimeout(entry.client.end(), timeoutMs, 'disconnect').catch(() => undefined);
      }
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RemoteTimeout(what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
