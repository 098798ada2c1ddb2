import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeFsStorage } from '../../src/storage/node-fs.js';
import type { StorageAdapter } from '../../src/storage/types.js';
import { tempDir } from '../support/server.js';
import { storageContract } from './contract.js';

const dirs: Array<{ remove(): void }> = [];
afterAll(() => dirs.forEach((d) => d.remove()));

storageContract(
  'node-fs',
  async () => {
    const d = tempDir('orbit-storage-');
    dirs.push(d);
    return NodeFsStorage.open(d.path);
  },
  async (old: StorageAdapter) => {
    await old.close();
    return NodeFsStorage.open((old as NodeFsStorage).dataDir);
  },
);

describe('node-fs temporary files', () => {
  it('removes at open the temporary files of writes a dead process left, not those of a live one', async () => {
    const d = tempDir('orbit-storage-');
    dirs.push(d);
    const s = await NodeFsStorage.open(d.path);
    await s.put('cs/1/2/3/0', new Uint8Array([1]));
    const at = join(d.path, 'objects', 'cs', '1', '2', '3');
    // A pid above the kernel's maximum (2^22) belongs to no process.
    const dead = join(at, `1.tmp-${(1 << 22) + 7}-1`);
    const live = join(at, `2.tmp-${process.pid}-1`);
    writeFileSync(dead, 'x');
    writeFileSync(live, 'y');
    await s.close();
    const again = await NodeFsStorage.open(d.path);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(await again.list('cs/')).toEqual(['cs/1/2/3/0']);
  });
});

describe('node-fs putNew', () => {
  it('stores new objects in several directories, readable after reopening, with no temporaries left', async () => {
    const d = tempDir('orbit-storage-');
    dirs.push(d);
    const s = await NodeFsStorage.open(d.path);
    const entries = Array.from({ length: 20 }, (_, i) => [`cs/1/${i % 3}/1/${i}`, new Uint8Array([i, i + 1, 255])] as const);
    await s.putNew(entries);
    await s.close();
    const again = await NodeFsStorage.open(d.path);
    for (const [key, value] of entries) expect(await again.get(key)).toEqual(value);
    expect(await again.list('cs/')).toEqual(entries.map(([k]) => k).sort());
    expect(await again.list('')).toHaveLength(20);
  });
});
