import { afterAll } from 'vitest';
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
