import { PGlite } from '@electric-sql/pglite';
import { readFileSync } from 'node:fs';
const db = await PGlite.create({ loadDataDir: new Blob([readFileSync('dist/pgdata-template.tar.gz')]) });
console.log((await db.query("select relname from pg_class where relnamespace='public'::regnamespace")).rows);
const db2 = await PGlite.create('memory://');
console.log((await db2.query("select relname from pg_class where relnamespace='public'::regnamespace")).rows);
