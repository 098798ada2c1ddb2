/** One peer in a benchmark: prepares, runs the measured step, reports figures, cleans up. */
export interface CopyResult {
  readonly system: string;
  readonly rows: number;
  readonly bytes: number;
  readonly ms: number;
  readonly rowsPerSecond: number;
  /** Peak resident memory of the process that holds the database, MB. */
  readonly peakRssMb: number;
}

export interface CopySystem {
  readonly name: string;
  /** Loads the CSV at `csvPath` (`rows` rows) into a fresh `cpu` table and measures it. */
  copy(csvPath: string, rows: number, bytes: number): Promise<CopyResult>;
}
