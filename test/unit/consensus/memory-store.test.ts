import { MemoryConsensusStore } from '../../../src/consensus/memory-store.ts';
import { consensusStoreCompliance } from './store-compliance.ts';

consensusStoreCompliance('MemoryConsensusStore', async () => ({ store: new MemoryConsensusStore() }));
