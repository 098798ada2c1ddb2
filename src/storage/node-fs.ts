/**
 * @module storage/node-fs
 * Files on a local disk (Node). Layout under the data directory: `pgdata/` is PGlite's cluster,
 * `objects/<key>` holds Orbit's own values. Writes go to a temporary file that is fsynced and renamed
 * over the old one, so a crash leaves either the old or the new value, never a torn one.
 */
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { closeSync, openSync, readFileSync, readSync, readvSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { checkKey, checkRange, StorageKind, type StorageAdapter } from './types.js';

/** Files `putNew` writes at once (libuv runs four file operations at a time by default). */
const PUT_NEW_CONCURRENCY = 8;

export class NodeFsStorage implements StorageAdapter {
  readonly kind = StorageKind.nodeFs;
  readonly rowStoreDataDir: string;
  private readonly objects: string;
  private tmpCounter = 0;

  private constructor(readonly dataDir: string) {
    this.rowStoreDataDir = join(dataDir, 'pgdata');
    this.objects = join(dataDir, 'objects');
  }

  /** Opens (creating if needed) a data directory; fails clearly if it cannot be used. */
  static async open(dataDir: string): Promise<NodeFsStorage> {
    await mkdir(join(dataDir, 'objects'), { recursive: true });
    await mkdir(join(dataDir, 'pgdata'), { recursive: true });
    const probe = join(dataDir, `.write-test-${process.pid}`);
    const fh = await open(probe, 'w');
    await fh.close();
    await rm(probe);
    await removeTemporaries(join(dataDir, 'objects'));
    return new NodeFsStorage(dataDir);
  }

  private path(key: string): string {
    checkKey(key);
    // checkKey leaves nothing for join to normalise (no empty, '.' or '..' segments): only the
    // separator may differ. join per batch read cost more than the read's bookkeeping.
    return `${this.objects}${sep}${sep === '/' ? key : key.split('/').join(sep)}`;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      // Synchronous on purpose: objects are small (a batch is ~30 KB) and usually in the page cache,
      // where fs/promises' open/stat/read/close round trips through the thread pool cost ~10× the
      // read itself (a 3.5 M-row scan outside the batch cache: 2.7 s → ~0.5 s). The statement
      // waiting for it holds the database anyway.
      const file = readFileSync(this.path(key));
      // A plain Uint8Array over the file's own buffer (files above Buffer's pool size get one):
      // copying it doubled the bytes allocated per read (~60 KB per batch), which drove the
      // collector during scans and aggregates outside the batch cache.
      return file.byteOffset === 0 && file.byteLength === file.buffer.byteLength ? new Uint8Array(file.buffer) : new Uint8Array(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** A file descriptor for reading `key`'s file, or undefined when there is none. */
  private openIfExists(key: string): number | undefined {
    try {
      return openSync(this.path(key), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** One open and positioned reads: synchronous for the reason `get` gives. */
  async getRange(key: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    checkRange(offset, length);
    const fd = this.openIfExists(key);
    if (fd === undefined) return undefined;
    try {
      const out = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, out, got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return got === length ? out : out.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  }

  /** One open and one vectored read (the gaps between ranges into a scratch buffer). */
  async getRanges(key: string, ranges: ReadonlyArray<{ readonly offset: number; readonly length: number }>): Promise<Uint8Array[] | undefined> {
    let end = 0;
    for (const r of ranges) {
      checkRange(r.offset, r.length);
      if (r.offset < end) throw new RangeError('getRanges: ranges must be ascending and not overlap');
      end = r.offset + r.length;
    }
    const fd = this.openIfExists(key);
    if (fd === undefined) return undefined;
    try {
      const out = ranges.map((r) => new Uint8Array(r.length));
      if (ranges.length === 0) return out;
      const start = ranges[0]!.offset;
      const views: Uint8Array[] = [];
      // Where each range starts in the read (its bytes land in out[i]).
      const at: number[] = [];
      let pos = start;
      for (const [i, r] of ranges.entries()) {
        if (r.offset > pos) views.push(new Uint8Array(r.offset - pos));
        at.push(r.offset - start);
        views.push(out[i]!);
        pos = r.offset + r.length;
      }
      // One readv, then plain reads for the rest if it came back short (a signal, or the end).
      let got = readvSync(fd, views, start);
      const total = end - start;
      if (got < total) {
        const whole = new Uint8Array(total - got);
        let more = 0;
        while (got + more < total) {
          const n = readSync(fd, whole, more, whole.length - more, start + got + more);
          if (n === 0) break;
          more += n;
        }
        // Copy what the follow-up reads found into the ranges they belong to.
        for (const [i, r] of ranges.entries()) {
          const from = at[i]!;
          const lo = Math.max(from, got);
          const hi = Math.min(from + r.length, got + more);
          if (hi > lo) out[i]!.set(whole.subarray(lo - got, hi - got), lo - from);
        }
        got += more;
      }
      return ranges.map((r, i) => (at[i]! + r.length <= got ? out[i]! : out[i]!.subarray(0, Math.max(0, got - at[i]!))));
    } finally {
      closeSync(fd);
    }
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}-${++this.tmpCounter}`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(value);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    await syncDir(dirname(path));
  }

  /**
   * Each file written in place and fsynced (no temporary and rename: no reader follows these keys
   * until a manifest written after this resolves), then one fsync per directory for all their
   * names, where `put` pays a rename and a directory fsync per file.
   */
  async putNew(entries: ReadonlyArray<readonly [key: string, value: Uint8Array]>): Promise<void> {
    const paths = entries.map(([key]) => this.path(key));
    const dirs = [...new Set(paths.map((p) => dirname(p)))];
    for (const d of dirs) await mkdir(d, { recursive: true });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < entries.length) {
        const i = next++;
        const fh = await open(paths[i]!, 'w');
        try {
          await fh.writeFile(entries[i]![1]);
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PUT_NEW_CONCURRENCY, entries.length) }, worker));
    for (const d of dirs) await syncDir(d);
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    await walkFiles(this.objects, async (p, name) => {
      if (!name.includes('.tmp-')) out.push(relative(this.objects, p).split(sep).join('/'));
    });
    return out.filter((k) => k.startsWith(prefix)).sort();
  }

  async close(): Promise<void> {}

  /** True when the directory already holds a cluster. */
  async hasCluster(): Promise<boolean> {
    try {
      await stat(join(this.rowStoreDataDir, 'PG_VERSION'));
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Deletes the temporary files (`<key>.tmp-<pid>-<n>`) of writes a crash interrupted: their values
 * were never renamed into place, so no reader can see them. Files of a live process (another one
 * with the directory open) are left alone.
 */
async function removeTemporaries(dir: string): Promise<void> {
  await walkFiles(dir, async (p, name) => {
    if (name.includes('.tmp-') && !alive(Number(name.split('.tmp-')[1]!.split('-')[0]))) await rm(p, { force: true });
  });
}

/** Calls `visit` for every file under `dir` (none if it does not exist). */
async function walkFiles(dir: string, visit: (path: string, name: string) => Promise<void>): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walkFiles(p, visit);
    else await visit(p, e.name);
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsync of a directory makes a rename durable (ext4/xfs semantics). */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
