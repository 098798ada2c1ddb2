/**
 * @module runtime/browser-share
 * One database, several tabs. The tab (worker) that opened a durable database owns it; a second
 * tab's worker that finds it locked sends its queries to the owner over a BroadcastChannel named
 * after the database, and the owner runs them in a session of their own (own settings, own
 * transaction). Messages are structured clones, so rows keep their JS types, as in the worker
 * protocol.
 *
 * If the owner closes the database, a proxy's calls fail with 57P01 admin_shutdown; if the owner's
 * tab dies, the proxy learns it from the database lock (it waits for the lock, which the browser
 * releases with the dead worker) and fails with 08006 connection_failure. Either way the page can
 * open the database again, and this time it owns it.
 */
import { OrbitError } from '../errors.js';
import type { Orbit, OrbitSession } from '../orbit.js';
import type { QueryResult } from '../rowstore/types.js';
import { SqlState } from '../sqlstate.js';
import { holdLock } from '../storage/database-lock.js';
import type { WorkerError } from './browser.js';

type Request = { readonly client: string; readonly id: number } & (
  | { readonly kind: 'query'; readonly sql: string; readonly params?: unknown[] }
  | { readonly kind: 'exec'; readonly sql: string }
  | { readonly kind: 'copyFrom'; readonly sql: string; readonly data: Blob | Uint8Array | string }
);

type Message =
  | { readonly kind: 'hello'; readonly client: string }
  | { readonly kind: 'welcome'; readonly client: string }
  | { readonly kind: 'bye'; readonly client: string }
  | { readonly kind: 'closed' }
  | Request
  | { readonly kind: 'answer'; readonly client: string; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly kind: 'answer'; readonly client: string; readonly id: number; readonly ok: false; readonly error: WorkerError };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function channelName(dataDir: string): string {
  return `orbit:share:${dataDir}`;
}

function clientLock(client: string): string {
  return `orbit:client:${client}`;
}

/** Owner side: answers other tabs' queries until the returned function is called (before close). */
export function shareDatabase(orbit: Orbit, dataDir: string, toError: (err: unknown) => WorkerError): () => Promise<void> {
  const channel = new BroadcastChannel(channelName(dataDir));
  const sessions = new Map<string, OrbitSession>();
  const stopWatching = new AbortController();
  channel.onmessage = async (event: MessageEvent<Message>) => {
    const message = event.data;
    if (message.kind === 'hello') {
      const { client } = message;
      sessions.set(client, orbit.session());
      // A proxy holds its own lock while it lives: granted to us means its tab died without a bye,
      // so its session (maybe inside a transaction, holding the backend) is rolled back here.
      navigator.locks
        ?.request(clientLock(client), { signal: stopWatching.signal }, async () => {
          await sessions.get(client)?.close();
          sessions.delete(client);
        })
        .catch(() => undefined);
      channel.postMessage({ kind: 'welcome', client } satisfies Message);
    } else if (message.kind === 'bye') {
      await sessions.get(message.client)?.close();
      sessions.delete(message.client);
    } else if (message.kind === 'query' || message.kind === 'exec' || message.kind === 'copyFrom') {
      const { client, id } = message;
      const session = sessions.get(client);
      let answer: Message;
      try {
        if (!session) throw new OrbitError(SqlState.connection_does_not_exist, 'this tab is not connected to the database owner');
        const result =
          message.kind === 'query'
            ? await session.query(message.sql, message.params)
            : message.kind === 'exec'
              ? await session.exec(message.sql)
              : await session.copyFrom(message.sql, message.data);
        answer = { kind: 'answer', client, id, ok: true, result };
      } catch (err) {
        answer = { kind: 'answer', client, id, ok: false, error: toError(err) };
      }
      try {
        channel.postMessage(answer);
      } catch (err) {
        // A value structured clone cannot copy (as in the worker protocol).
        const error = toError(new OrbitError(SqlState.internal_error, 'the result cannot be sent to the other tab', { cause: err }));
        channel.postMessage({ kind: 'answer', client, id, ok: false, error } satisfies Message);
      }
    }
  };
  return async () => {
    channel.onmessage = null;
    stopWatching.abort();
    await Promise.all([...sessions.values()].map((s) => s.close()));
    channel.postMessage({ kind: 'closed' } satisfies Message);
    channel.close();
  };
}

/** A second tab's handle on a database another tab owns: its session there. */
export type RemoteDatabase = OrbitSession;

/**
 * Connects to the owner of `dataDir` (`lock` names the database lock the owner holds). Fails with
 * `refusal` when no owner answers within `waitMs` (an owner that does not share, e.g. one opened
 * with openOrbit outside the worker).
 */
export async function connectToOwner(dataDir: string, lock: string, waitMs: number, refusal: OrbitError): Promise<RemoteDatabase> {
  const client = crypto.randomUUID();
  const alive = await holdLock(clientLock(client));
  const channel = new BroadcastChannel(channelName(dataDir));
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  let nextId = 1;
  let gone: OrbitError | undefined;
  const fail = (err: OrbitError) => {
    gone ??= err;
    for (const p of pending.values()) p.reject(gone);
    pending.clear();
    channel.close();
    alive.release();
  };
  let welcomed!: () => void;
  const welcome = new Promise<void>((resolve) => (welcomed = resolve));
  channel.onmessage = (event: MessageEvent<Message>) => {
    const message = event.data;
    if (message.kind === 'welcome' && message.client === client) welcomed();
    else if (message.kind === 'closed') fail(new OrbitError(SqlState.admin_shutdown, `the tab that owned database ${JSON.stringify(dataDir)} closed it`, { hint: 'Open the database again.' }));
    else if (message.kind === 'answer' && message.client === client) {
      const p = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) p?.resolve(message.result);
      else p?.reject(new OrbitError(message.error.code, message.error.message, message.error));
    }
  };
  channel.postMessage({ kind: 'hello', client } satisfies Message);
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), waitMs));
  if ((await Promise.race([welcome, timer])) === 'timeout') {
    channel.close();
    alive.release();
    throw refusal;
  }
  // The owner's lock is released when its worker dies: being granted it means the owner is gone.
  const stopWatching = new AbortController();
  navigator.locks
    ?.request(lock, { signal: stopWatching.signal }, async () => {
      fail(new OrbitError(SqlState.connection_failure, `the tab that owned database ${JSON.stringify(dataDir)} went away`, { hint: 'Open the database again.' }));
    })
    .catch(() => undefined);
  const send = <T>(request: DistributiveOmit<Request, 'client' | 'id'>): Promise<T> => {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      channel.postMessage({ ...request, client, id } satisfies Message);
    });
  };
  return {
    query: <Row>(sql: string, params?: unknown[]) => send<QueryResult<Row>>({ kind: 'query', sql, params }),
    exec: (sql: string) => send<QueryResult[]>({ kind: 'exec', sql }),
    copyFrom: (sql: string, data: Blob | Uint8Array | string) => send<QueryResult<never>>({ kind: 'copyFrom', sql, data }),
    close: async () => {
      stopWatching.abort();
      if (!gone) {
        channel.postMessage({ kind: 'bye', client } satisfies Message);
        fail(new OrbitError(SqlState.connection_does_not_exist, 'the database is closed'));
      }
    },
  };
}
