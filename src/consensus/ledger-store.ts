/**
 * The production ConsensusStore: the consensus records live in the ledger store's own namespace (one LevelDB
 * for the whole node), so a single `sync: true` batch makes each step's records durable before anything the
 * step signed is sent. Record keys are ASCII strings (persist.ts), stored as their UTF-8 bytes.
 */
import { utf8 } from '../core/bytes.ts';
import type { ConsensusKv } from '../ledger/store.ts';
import type { ConsensusStore } from './interfaces.ts';
import type { PersistOp } from './persist.ts';

const decoder = new TextDecoder('utf-8', { fatal: true });

export class LedgerConsensusStore implements ConsensusStore {
  readonly #kv: ConsensusKv;

  constructor(kv: ConsensusKv) {
    this.#kv = kv;
  }

  async load(): Promise<Array<readonly [string, Uint8Array]>> {
    // An undecodable key makes readPersisted refuse the record by name (CONSENSUS_CORRUPT_STATE).
    return (await this.#kv.entries()).map(([k, v]) => [decodeKey(k), v] as const);
  }

  write(ops: readonly PersistOp[]): Promise<void> {
    return this.#kv.write(
      ops.map((o) =>
        o.op === 'put'
          ? { op: 'put' as const, key: utf8.encode(o.key), value: o.value }
          : { op: 'del' as const, key: utf8.encode(o.key) },
      ),
    );
  }
}

function decodeKey(key: Uint8Array): string {
  try {
    return decoder.decode(key);
  } catch {
    return `<undecodable key ${Buffer.from(key).toString('hex')}>`;
  }
}
