/**
 * @module bench/suites/suite
 * A benchmark suite: its own command-line options, a run that prints a table and returns JSON-able results.
 */
import type { ParseArgsConfig } from 'node:util';

export interface Suite {
  readonly name: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  run(args: Record<string, string | boolean | undefined>): Promise<unknown>;
}
