import { afterAll } from 'vitest';
import { LedgerConsensusStore } from '../../../src/consensus/ledger-store.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { removeDir, tempDir } from '../../helpers/ledger.ts';
import { consensusStoreCompliance } from './store-compliance.ts';

const dirs: string[] = [];
const open: LevelLedgerStore[] = [];
afterAll(async () => {
  await Promise.allSettled(open.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map(removeDir));
});

consensusStoreCompliance('LedgerConsensusStore over MemoryLedgerStore', async () => ({
  store: new LedgerConsensusStore(new MemoryLedgerStore().consensus),
}));

consensusStoreCompliance('LedgerConsensusStore over LevelLedgerStore', async () => {
  const dir = await tempDir('consensus-store');
  dirs.push(dir);
  let level = await LevelLedgerStore.open(dir);
  open.push(level);
  return {
    store: new LedgerConsensusStore(level.consensus),
    reopen: async () => {
      await level.close();
      level = await LevelLedgerStore.open(dir);
      open.push(level);
      return new LedgerConsensusStore(level.consensus);
    },
  };
});
