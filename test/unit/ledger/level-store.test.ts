import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import type { LedgerStore } from '../../../src/ledger/store.ts';
import { removeDir, tempDir } from '../../helpers/ledger.ts';
import { ledgerStoreCompliance } from './store-compliance.ts';

ledgerStoreCompliance(
  'LevelLedgerStore',
  async () => {
    const dir = await tempDir('level-store');
    return {
      open: () => LevelLedgerStore.open(dir),
      reopen: async (store: LedgerStore) => {
        await store.close();
        return LevelLedgerStore.open(dir);
      },
      cleanup: () => removeDir(dir),
    };
  },
  { persistent: true },
);
