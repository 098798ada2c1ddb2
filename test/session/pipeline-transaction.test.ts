// Where the backend's transaction stands between Syncs (session/pipeline-transaction.ts), and the
// frame scan that keeps Orbit's simple queries out of a pipeline's implicit transaction.
import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/bytes.js';
import { holdsSimpleQuery, pipelineReadMessages, PipelineTransaction } from '../../src/session/pipeline-transaction.js';
import { simpleQuery } from '../../src/session/settings.js';
import { classify } from '../../src/sql/classify.js';
import { loadParser, parseSql } from '../../src/sql/parser.js';
import { writeParse } from '../../src/wire/protocol/frontend.js';
import { FrontendMessage, TransactionStatus } from '../../src/wire/protocol/message-codes.js';

const { Bind: B, Execute: E } = FrontendMessage;
const statement = (sql: string) => classify(parseSql(sql)[0]!);

beforeAll(async () => {
  await loadParser();
});

describe('PipelineTransaction', () => {
  const after = (ready: TransactionStatus, ...steps: Array<[number, string?]>) => {
    const p = new PipelineTransaction();
    for (const [type, sql] of steps) p.ran(type, sql === undefined ? undefined : statement(sql), ready);
    return p.current(ready);
  };

  it('follows the ReadyForQuery until something runs', () => {
    expect(after(TransactionStatus.Idle)).toBe('idle');
    expect(after(TransactionStatus.InTransaction)).toBe('block');
    expect(after(TransactionStatus.Failed)).toBe('failed');
  });

  it('opens the implicit transaction at the first Bind or Execute outside a block', () => {
    expect(after(TransactionStatus.Idle, [B])).toBe('implicit');
    expect(after(TransactionStatus.Idle, [B], [E, 'SELECT 1'])).toBe('implicit');
    expect(after(TransactionStatus.InTransaction, [B], [E, 'SELECT 1'])).toBe('block');
  });

  it('follows the transaction statements the pipeline executes', () => {
    expect(after(TransactionStatus.Idle, [B], [E, 'BEGIN'])).toBe('block');
    expect(after(TransactionStatus.Idle, [B], [E, 'START TRANSACTION'], [B], [E, 'COMMIT'])).toBe('idle');
    expect(after(TransactionStatus.InTransaction, [B], [E, 'ROLLBACK'])).toBe('idle');
    expect(after(TransactionStatus.InTransaction, [B], [E, 'COMMIT AND CHAIN'])).toBe('block');
    expect(after(TransactionStatus.InTransaction, [B], [E, 'END'], [B])).toBe('implicit');
    expect(after(TransactionStatus.InTransaction, [B], [E, "PREPARE TRANSACTION 'x'"])).toBe('idle');
    expect(after(TransactionStatus.InTransaction, [B], [E, 'SAVEPOINT s'])).toBe('block');
    // A failed block: only its end or a ROLLBACK TO SAVEPOINT changes it.
    expect(after(TransactionStatus.Failed, [B], [E, 'BEGIN'])).toBe('failed');
    expect(after(TransactionStatus.Failed, [B], [E, 'ROLLBACK TO SAVEPOINT s'])).toBe('block');
    expect(after(TransactionStatus.Failed, [B], [E, 'ROLLBACK'])).toBe('idle');
    // Bound but not executed: the BEGIN has not run yet.
    expect(after(TransactionStatus.Idle, [B, 'BEGIN'])).toBe('implicit');
  });

  it('is reset by a Sync', () => {
    const p = new PipelineTransaction();
    p.ran(B, undefined, TransactionStatus.Idle);
    p.reset();
    expect(p.current(TransactionStatus.Idle)).toBe('idle');
  });
});

describe('holdsSimpleQuery', () => {
  it('finds a Query among whole messages, and not in the extended messages of a read', () => {
    expect(holdsSimpleQuery(simpleQuery('SELECT 1'))).toBe(true);
    expect(holdsSimpleQuery(concatBytes([writeParse({ name: 'Q', query: 'Q', paramTypes: [] }), simpleQuery('BEGIN')]))).toBe(true);
    expect(holdsSimpleQuery(pipelineReadMessages('SELECT 1'))).toBe(false);
  });
});
