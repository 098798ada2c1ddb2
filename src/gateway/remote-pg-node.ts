/**
 * @module gateway/remote-pg-node
 * A gateway Remote for a PostgreSQL URL in Node, over node-postgres (`pg`, loaded on first use so
 * that importing Orbit does not require it).
 */
import type { ClientConfig } from 'pg';
import { clientRemote, type ClientRemoteOptions, type PgLikeClient, type Remote } from './remote.js';

/**
 * A Remote for `postgres://user:password@host:port/db` (an `orbit serve` instance or any
 * PostgreSQL) or a node-postgres ClientConfig.
 */
export function pgRemote(connection: string | ClientConfig, options: ClientRemoteOptions = {}): Remote {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const config: ClientConfig = typeof connection === 'string' ? { connectionString: connection } : connection;
  return clientRemote(async () => {
    const { default: pg } = await import('pg');
    // keepAlive notices a peer that vanished without a FIN (a device that lost its link).
    const client = new pg.Client({ connectionTimeoutMillis: timeoutMs, keepAlive: true, ...config });
    // Errors before connect() settles (e.g. ECONNREFUSED) must not surface as unhandled events.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    return client as unknown as PgLikeClient;
  }, options);
}
