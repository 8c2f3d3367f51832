import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { ledgerStoreCompliance } from './store-compliance.ts';

ledgerStoreCompliance(
  'MemoryLedgerStore',
  async () => ({
    open: async () => new MemoryLedgerStore(),
    cleanup: async () => {},
  }),
  { persistent: false },
);
