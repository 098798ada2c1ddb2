// Where the backend's transaction stands between Syncs (session/pipeline-transaction.ts), and the
// frame scan that keeps Orbit's simple queries out of a pipeline's implicit transaction.
import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/bytes.js';
import { holdsSimpleQuery, pipelineMessages, PipelineRefusal, PipelineTransaction, simpleOutput } from '../../src/session/pipeline-transaction.js';
import { copyData } from '../../src/wire/protocol/frontend.js';
import { BackendMessage } from '../../src/wire/protocol/message-codes.js';
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
  it('finds a Query among whole messages, and not among the extended messages they become in a pipeline', () => {
    expect(holdsSimpleQuery(simpleQuery('SELECT 1'))).toBe(true);
    expect(holdsSimpleQuery(concatBytes([writeParse({ name: 'Q', query: 'Q', paramTypes: [] }), simpleQuery('BEGIN')]))).toBe(true);
    expect(holdsSimpleQuery(pipelineMessages(simpleQuery('SELECT 1')))).toBe(false);
  });
});

/** Frontend messages as their type letters, a Parse with its text. */
function letters(messages: Uint8Array): string[] {
  const out: string[] = [];
  for (let at = 0; at < messages.length; ) {
    const end = at + 1 + new DataView(messages.buffer, messages.byteOffset + at + 1, 4).getInt32(0);
    const type = String.fromCharCode(messages[at]!);
    out.push(type === 'P' ? `P(${new TextDecoder().decode(messages.subarray(at + 5, end)).split('\0')[1]})` : type);
    at = end;
  }
  return out;
}

describe('pipelineMessages', () => {
  it("runs each statement of a Query through Orbit's named statement, closed before it and at the end, with no Sync", () => {
    expect(letters(pipelineMessages(simpleQuery('SELECT 1; CREATE TEMP TABLE x (a int)')))).toEqual(['C', 'C', 'P(SELECT 1)', 'B', 'D', 'E', 'C', 'C', 'P(CREATE TEMP TABLE x (a int))', 'B', 'D', 'E', 'C', 'C', 'H']);
  });

  it("leaves savepoints out (PostgreSQL refuses them in an implicit transaction) and refuses a transaction's begin or end", () => {
    expect(letters(pipelineMessages(simpleQuery('SAVEPOINT s; SELECT 1; RELEASE SAVEPOINT s')))).toEqual(['C', 'C', 'P(SELECT 1)', 'B', 'D', 'E', 'C', 'C', 'H']);
    expect(letters(pipelineMessages(simpleQuery('ROLLBACK TO SAVEPOINT s; RELEASE SAVEPOINT s')))).toEqual([]);
    for (const sql of ['BEGIN', 'SELECT 1; COMMIT', 'ROLLBACK']) expect(() => pipelineMessages(simpleQuery(sql))).toThrow(PipelineRefusal);
  });

  it("keeps a COPY's data right after its Execute", () => {
    const data = copyData(new Uint8Array([1, 2]));
    const done = new Uint8Array([0x63, 0, 0, 0, 4]);
    expect(letters(pipelineMessages(concatBytes([simpleQuery('COPY x FROM STDIN'), data, done])))).toEqual(['C', 'C', 'P(COPY x FROM STDIN)', 'B', 'D', 'E', 'd', 'c', 'C', 'C', 'H']);
  });
});

describe('simpleOutput', () => {
  it("keeps what a simple query would have answered, without the extended protocol's acknowledgements", () => {
    const frame = (type: number, body: number[] = []) => new Uint8Array([type, 0, 0, 0, 4 + body.length, ...body]);
    const out = concatBytes([frame(BackendMessage.CloseComplete), frame(BackendMessage.ParseComplete), frame(BackendMessage.BindComplete), frame(BackendMessage.RowDescription, [0, 0]), frame(BackendMessage.DataRow, [0, 0]), frame(BackendMessage.CommandComplete, [0]), frame(BackendMessage.NoData)]);
    expect(simpleOutput(out)).toEqual(concatBytes([frame(BackendMessage.RowDescription, [0, 0]), frame(BackendMessage.DataRow, [0, 0]), frame(BackendMessage.CommandComplete, [0])]));
  });
});
