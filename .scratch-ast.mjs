import { loadModule, parseSync } from 'libpg-query';
await loadModule();
console.log(JSON.stringify(parseSync(process.argv[2]).stmts[0].stmt, null, 0));
