/**
 * Child process for the crash test: opens the Level ledger in argv[2] and commits blocks until it is killed,
 * printing "writing <height>" while a commit's write is in flight and "committed <height>" once it returned. Stdout to a pipe
 * is synchronous on Linux, so a printed line really precedes the next step.
 */

import { genesisHash } from '../../../src/core/genesis.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import { batchOf } from '../../helpers/chain.ts';
import {
  certify,
  docHash,
  evidenceTx,
  TEST_GENESIS_TIME,
  TEST_INSTITUTIONS,
  testGenesis,
} from '../../helpers/fixtures.ts';

/** The txs of block `height`: 0 to 299 of them, so writes vary from a few bytes to ~150 KB. */
export function crashBlockTxs(height: number) {
  const n = (height * 37) % 300;
  return Array.from({ length: n }, (_, j) =>
    evidenceTx({
      institution: TEST_INSTITUTIONS[j % 4]!,
      nonce: height * 1000 + j,
      createdAt: TEST_GENESIS_TIME + height * 1000,
      evidence: { caseId: `CASE-${height % 5}`, hash: docHash(`doc-${(height * 31 + j) % 50}`) },
    }),
  );
}

async function main(dir: string): Promise<void> {
  const store = await LevelLedgerStore.open(dir);
  const chain = await LedgerChain.open(store, testGenesis());
  for (;;) {
    const height = chain.head().height + 1;
    const built = await chain.buildBlock(
      batchOf(crashBlockTxs(height), TEST_GENESIS_TIME + height * 1000, height % 4),
    );
    if (built.rejected.length > 0) throw new Error(`block ${height} rejected ${built.rejected[0]!.code}`);
    const commit = chain.commitBlock(
      built,
      certify(built.header, built.header.view, undefined, genesisHash(chain.genesis)),
    );
    // Microtasks run before setImmediate: by then the commit's synchronous work is done and its LevelDB
    // write is in flight on a worker thread, so a kill on this line lands during the write.
    setImmediate(() => process.stdout.write(`writing ${height}\n`));
    await commit;
    process.stdout.write(`committed ${height}\n`);
  }
}

if (process.argv[1] === import.meta.filename) {
  main(process.argv[2]!).catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
