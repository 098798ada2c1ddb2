/**
 * @module worker
 * Orbit's Cloudflare Worker: HTTP endpoints of the edge profile. For now it only classifies SQL; it will
 * grow into the edge query endpoint. Built by worker/build.mjs (`npm run build:worker`), never run from
 * source, because libpg-query's glue has to be swapped for workerd.
 */
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  classify,
  loadParser,
  OrbitError,
  parseSql,
  SqlState,
  toOrbitError,
  type ClassifiedStatement,
  type SqlStateCode,
} from '../src/runtime/workers.js';

/** HTTP status per SQLSTATE; anything not listed is a server error (500). */
const httpStatus: Partial<Record<SqlStateCode, ContentfulStatusCode>> = {
  [SqlState.syntax_error]: 400,
  [SqlState.protocol_violation]: 400,
  [SqlState.feature_not_supported]: 501,
};

/** A classified statement as sent over HTTP (the AST stays in the Worker). */
type StatementJson = Pick<
  ClassifiedStatement,
  'type' | 'kind' | 'text' | 'changesSettings' | 'createsTempObject' | 'copy' | 'channel' | 'preparedName' | 'relations'
>;

function toJson(s: ClassifiedStatement): StatementJson {
  const { type, kind, text, changesSettings, createsTempObject, copy, channel, preparedName, relations } = s;
  return { type, kind, text, changesSettings, createsTempObject, copy, channel, preparedName, relations };
}

const app = new Hono();

/** `POST /sql/classify` `{ sql }` → `{ statements }`; errors → `{ error: { code, message, position } }`. */
app.post('/sql/classify', async (c) => {
  const body = await c.req.json<{ sql?: unknown }>().catch(() => undefined);
  if (typeof body?.sql !== 'string') {
    throw new OrbitError(SqlState.protocol_violation, 'request body must be JSON of the form {"sql": "..."}');
  }
  // Loads the parser on first use, so its instantiation stays off the Worker's startup path.
  await loadParser();
  return c.json({ statements: parseSql(body.sql).map((stmt) => toJson(classify(stmt))) });
});

app.onError((err, c) => {
  const e = toOrbitError(err);
  const status = httpStatus[e.code as SqlStateCode] ?? 500;
  return c.json({ error: { code: e.code, message: e.message, position: e.position } }, status);
});

export default app;
