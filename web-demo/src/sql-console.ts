/**
 * @module web-demo/sql-console
 * The SQL console: the text goes to the worker as one `exec` request (several statements run as one
 * implicit transaction, as in psql's `-c`), and each statement's rows, or PostgreSQL's error with its
 * SQLSTATE, are shown under it.
 */
import type { OrbitClient } from './orbit-client.js';
import { byId, el, errorBlock, resultSummary, resultTable } from './render.js';
import { EXAMPLES } from './sql.js';

export class SqlConsole {
  private readonly input = byId<HTMLTextAreaElement>('console-sql');
  private readonly output = byId('console-output');
  private readonly runButton = byId<HTMLButtonElement>('console-run');
  private running = false;

  /** `afterRun` lets the dashboard refresh at once when the console changed data. */
  constructor(
    private readonly db: OrbitClient,
    private readonly afterRun: () => void,
  ) {
    const examples = byId<HTMLSelectElement>('console-examples');
    for (const name of Object.keys(EXAMPLES)) examples.append(el('option', { value: name }, name));
    examples.addEventListener('change', () => {
      const sql = EXAMPLES[examples.value];
      if (sql !== undefined) this.input.value = sql;
      examples.selectedIndex = 0;
      this.input.focus();
    });
    this.runButton.addEventListener('click', () => void this.run());
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        void this.run();
      }
    });
  }

  /** Puts `sql` in the console and runs it (the compression panel's buttons use this). */
  async show(sql: string): Promise<void> {
    this.input.value = sql;
    await this.run();
  }

  async run(): Promise<void> {
    const sql = this.input.value;
    if (this.running || sql.trim() === '') return;
    this.running = true;
    this.runButton.disabled = true;
    this.output.dataset.state = 'running';
    const t0 = performance.now();
    try {
      const results = await this.db.exec(sql);
      const ms = performance.now() - t0;
      const blocks = results.flatMap((r) => (r.fields.length > 0 ? [resultTable(r), el('p', { class: 'summary' }, resultSummary(r))] : [el('p', { class: 'summary' }, resultSummary(r))]));
      this.output.replaceChildren(...blocks, el('p', { class: 'timing' }, `${results.length} statement${results.length === 1 ? '' : 's'} in ${ms.toFixed(1)} ms`));
      this.output.dataset.state = 'ok';
    } catch (err) {
      this.output.replaceChildren(errorBlock(err, sql));
      this.output.dataset.state = 'error';
    } finally {
      this.running = false;
      this.runButton.disabled = false;
      this.afterRun();
    }
  }
}
