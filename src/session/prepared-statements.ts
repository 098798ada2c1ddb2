/**
 * @module session/prepared-statements
 * A session's prepared statements and portals, and their names on the shared backend: named
 * statements become `_orbit_<session>_<n>` there, so two sessions can both use `q1`.
 */
import type { ClassifiedStatement } from '../sql/classify.js';
import type { ParseMessage } from '../wire/protocol/frontend.js';
import type { Backend } from './backend.js';
import type { SessionStatement } from './prepared-view.js';

export interface PreparedEntry {
  readonly backendName: string;
  /** The Parse that made it (empty query for SQL-level PREPARE, which cannot be replayed as a Parse). */
  readonly parse: ParseMessage;
  /** For SQL-level PREPARE: the statement (with the backend name) that re-creates it. */
  readonly prepareSql?: string;
  readonly statement?: ClassifiedStatement;
  /** The text the client prepared (its Parse's query, or its PREPARE statement), as pg_prepared_statements shows it. */
  readonly clientText?: string;
  /** Backend deallocation epoch when this statement was last parsed on the backend. */
  epoch: number;
  /** False while a deferred Parse has not reached the backend yet. */
  onBackend: boolean;
  /**
   * Parsed as written over a hypertable its role could not read at its Parse (PostgreSQL checks
   * privileges at Bind): Orbit's columnstore work for it is done at each Bind (extended-query.ts).
   */
  atBind?: boolean;
}

export class PreparedStatements {
  private readonly named = new Map<string, PreparedEntry>();
  private counter = 0;
  /** The session's last unnamed statement. */
  unnamed: PreparedEntry | undefined;
  /** Portal name → what its statement does (for effects at Execute). */
  readonly portals = new Map<string, ClassifiedStatement | undefined>();

  constructor(
    private readonly sessionId: number,
    private readonly backend: Backend,
  ) {}

  has(clientName: string): boolean {
    return this.named.has(clientName);
  }

  lookup(clientName: string): PreparedEntry | undefined {
    return clientName === '' ? this.unnamed : this.named.get(clientName);
  }

  /** The backend name for a client's statement name; with `create`, a new one for a new statement. */
  backendName(
    clientName: string,
    create: boolean,
    parse?: ParseMessage,
    statement?: ClassifiedStatement,
    onBackend = true,
    prepareSql?: (backendName: string) => string,
    clientText?: string,
  ): string {
    const known = this.named.get(clientName);
    if (known) return known.backendName;
    if (!create) return clientName;
    const backendName = `_orbit_${this.sessionId}_${++this.counter}`;
    this.named.set(clientName, {
      backendName,
      prepareSql: prepareSql?.(backendName),
      parse: parse ? { ...parse, name: backendName } : { name: backendName, query: '', paramTypes: [] },
      statement,
      clientText: clientText ?? parse?.query,
      epoch: this.backend.deallocEpoch,
      onBackend,
    });
    return backendName;
  }

  setUnnamed(parse: ParseMessage, statement: ClassifiedStatement | undefined): void {
    this.unnamed = { backendName: '', parse, statement, epoch: this.backend.deallocEpoch, onBackend: true };
  }

  delete(clientName: string): void {
    if (clientName === '') this.unnamed = undefined;
    else this.named.delete(clientName);
  }

  /** DEALLOCATE ALL / DISCARD ALL: every statement on the backend is gone, other sessions' too. */
  forgetAll(): void {
    this.named.clear();
    this.backend.deallocEpoch++;
  }

  /** Whether a named statement is not (or no longer) on the backend, and can be (re-)parsed there. */
  stale(entry: PreparedEntry): boolean {
    return (!entry.onBackend || entry.epoch < this.backend.deallocEpoch) && entry.parse.query !== '';
  }

  /** The PREPARE that re-creates a SQL-level statement dropped from the backend (marks it restored). */
  replayFor(clientName: string): string | undefined {
    const entry = this.named.get(clientName);
    if (!entry?.prepareSql || entry.epoch >= this.backend.deallocEpoch) return undefined;
    entry.epoch = this.backend.deallocEpoch;
    return entry.prepareSql;
  }

  /** The client's names of its named statements. */
  clientNames(): string[] {
    return [...this.named.keys()];
  }

  /** The session's named statements as pg_prepared_statements shows them (session/prepared-view.ts). */
  listed(): SessionStatement[] {
    return [...this.named].map(([clientName, e]) => ({ backendName: e.backendName, clientName, text: e.clientText ?? '' }));
  }

  /**
   * `text` (a backend error's message) with this session's backend names put back to the client's:
   * PostgreSQL names the statement in errors such as 42P05 "prepared statement … already exists".
   */
  clientNamesIn(text: string): string {
    const prefix = `_orbit_${this.sessionId}_`;
    if (!text.includes(prefix)) return text;
    for (const [clientName, e] of this.named) text = text.split(`"${e.backendName}"`).join(`"${clientName}"`);
    return text;
  }

  /** Backend names of the statements that exist on the backend (for cleanup). */
  backendNames(): string[] {
    return [...this.named.values()].filter((e) => e.onBackend).map((e) => e.backendName);
  }
}
