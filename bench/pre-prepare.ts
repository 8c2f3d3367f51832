/**
 * What a backup spends on one PRE-PREPARE, whole (every tx inside: decoded from the frame) against compact (txs
 * named by hash, taken from the mempool): wire bytes per tx, and CPU per tx for the primary's encoding and the
 * backup's decoding, edge signature check and filling in. CPU is process CPU time (user + system), so it holds
 * on a loaded machine better than wall time. Usage: `node bench/pre-prepare.ts [--txs N] [--rounds N] [--json]`.
 */
import { Command, InvalidArgumentError } from 'commander';
import { encodeMessage, type PrePrepare, withSignature } from '../src/consensus/messages.ts';
import { type Batch, batchDigest } from '../src/core/batch.ts';
import { verifySignature } from '../src/core/crypto.ts';
import { genesisValidatorSet } from '../src/core/genesis.ts';
import type { TxEnvelope } from '../src/core/tx.ts';
import { median } from '../src/dev/bench/stats.ts';
import { encodeCompactPrePrepare, expandCompact } from '../src/node/net/compact-pre-prepare.ts';
import { checkConsensusFrame } from '../src/node/net/consensus-transport.ts';
import { evidenceTx, testGenesis, validatorSigners } from '../test/helpers/fixtures.ts';

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
}

const opts = new Command('bench:pre-prepare')
  .option('--txs <n>', 'txs per batch', positive, 500)
  .option('--rounds <n>', 'rounds of each form (the median is reported)', positive, 40)
  .option('--json', 'print JSON')
  .parse()
  .opts<{ txs: number; rounds: number; json?: boolean }>();

const g = testGenesis();
const signer = validatorSigners()[1]!;
const ctx = { chainId: g.chainId, set: genesisValidatorSet(g), self: 0, verify: verifySignature };
const txs = Array.from({ length: opts.txs }, (_, i) => evidenceTx({ nonce: i + 1 }));
const pool = new Map<string, TxEnvelope>(txs.map((t) => [t.hashHex, t]));
const batch: Batch = { proposer: 1, view: 0, time: 1_800_000_000_000, txs };
const m = withSignature<PrePrepare>(
  { type: 'prePrepare', chainId: g.chainId, from: 1, view: 0, seq: 1, batch, digest: batchDigest(batch) },
  (d, b) => signer.sign(d, b),
);

/** CPU µs per tx of `run`, median over rounds. */
function cpuPerTx(run: () => void): number {
  const samples: number[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    const t = process.cpuUsage();
    run();
    const d = process.cpuUsage(t);
    samples.push((d.user + d.system) / opts.txs);
  }
  return median(samples);
}

const wholeFrame = encodeMessage(m);
const compactFrame = encodeCompactPrePrepare(m);
const result = {
  txs: opts.txs,
  txBytes: median(txs.map((t) => t.bytes.length)),
  wholeBytesPerTx: wholeFrame.length / opts.txs,
  compactBytesPerTx: compactFrame.length / opts.txs,
  encodeWholeUs: cpuPerTx(() => encodeMessage(m)),
  encodeCompactUs: cpuPerTx(() => encodeCompactPrePrepare(m)),
  backupWholeUs: cpuPerTx(() => {
    if (!checkConsensusFrame(wholeFrame, 1, ctx).ok) throw new Error('whole frame refused');
  }),
  backupCompactUs: cpuPerTx(() => {
    const r = checkConsensusFrame(compactFrame, 1, ctx);
    if (!r.ok || r.message.type !== 'compactPrePrepare') throw new Error('compact frame refused');
    const c = r.message;
    expandCompact(
      c,
      c.hashHex.map((h) => pool.get(h)!),
    );
  }),
};

if (opts.json) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`PRE-PREPARE of ${result.txs} evidence txs (median tx ${result.txBytes} bytes):`);
  console.log(
    `  wire bytes per tx       whole ${result.wholeBytesPerTx.toFixed(1)}   compact ${result.compactBytesPerTx.toFixed(1)}`,
  );
  console.log(
    `  primary encode, CPU µs  whole ${result.encodeWholeUs.toFixed(2)}   compact ${result.encodeCompactUs.toFixed(2)}`,
  );
  console.log(
    `  backup edge + decode    whole ${result.backupWholeUs.toFixed(2)}   compact ${result.backupCompactUs.toFixed(2)} (with the fill-in from the pool)`,
  );
}
