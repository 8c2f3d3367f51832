/**
 * State sync benchmark: how fast a node catches up. One host serves a certified chain from a Level ledger
 * (SyncServer); another, starting from an empty Level ledger, syncs it with StateSyncClient over real libp2p on
 * 127.0.0.1: fetch ranges, verify every certificate, hash chain and txRoot, re-execute every tx (signatures
 * included: none were seen at admission), and commit each block with one fsync'd batch.
 * Run: `npm run bench:sync` (or `npx node bench/sync.ts --blocks 500 --txs-per-block 4`).
 *
 * The source chain is written straight to its store (no execution), so only the syncing side is timed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { makeQuorumContext } from '../src/consensus/certificates.ts';
import { type BlockHeader, headerHash } from '../src/core/block.ts';
import { utf8 } from '../src/core/bytes.ts';
import { sha256, verifySignature } from '../src/core/crypto.ts';
import { encodeEvidence } from '../src/core/evidence.ts';
import { genesisHash, genesisValidatorSet } from '../src/core/genesis.ts';
import { merkleRoot } from '../src/core/merkle.ts';
import { envelope, signTx, type TxEnvelope } from '../src/core/tx.ts';
import { validatorSetHash } from '../src/core/validators.ts';
import { LedgerChain } from '../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../src/ledger/level-store.ts';
import { decodeTxRecord } from '../src/ledger/records.ts';
import { StateSyncClient } from '../src/node/net/state-sync.ts';
import { SyncServer } from '../src/node/net/sync-server.ts';
import { ValidatorPeers } from '../src/node/net/validator-peers.ts';
import { createP2PHost, DEFAULT_PROTOCOLS, noopLogger, ProtocolId } from '../src/p2p/index.ts';
import {
  certify,
  TEST_GENESIS_TIME,
  TEST_INSTITUTIONS,
  testGenesis,
  testSigner,
} from '../test/helpers/fixtures.ts';

const genesis = testGenesis();
const signers = TEST_INSTITUTIONS.map((i) => testSigner(`${i}/client-1`));
const seedOf = (i: number) => sha256(utf8.encode(`jrchain-test-key:validator-${i}`));

interface Scenario {
  blocks: number;
  txsPerBlock: number;
  /** Validators serving the chain (1: nobody vouches for the signatures, so all are verified). */
  servers: number;
}

interface Result extends Scenario {
  seconds: number;
  blocksPerSec: number;
  txsPerSec: number;
  /** Client signatures the syncing ledger verified. */
  signatureVerifications: number;
}

function evidenceTx(n: number, time: number): TxEnvelope {
  const inst = n % TEST_INSTITUTIONS.length;
  const payload = encodeEvidence({
    hashAlg: 'sha256',
    hash: sha256(utf8.encode(`bench-sync-${n}`)),
    caseId: `2026-BJ-CC-${String(Math.floor(n / 20)).padStart(7, '0')}`,
    evidenceType: 'statement',
    mediaType: 'application/pdf',
    size: 40_000,
    label: 'Monthly card statement',
  });
  const unsigned = {
    chainId: genesis.chainId,
    type: 'evidence' as const,
    institution: TEST_INSTITUTIONS[inst]!,
    keyId: 'client-1',
    nonce: n,
    createdAt: time - 500,
    ttlMs: 3_600_000,
    payload,
  };
  return envelope(signTx(unsigned, signers[inst]!));
}

/** Writes `s.blocks` certified blocks straight into `store`. */
async function writeSource(store: LevelLedgerStore, s: Scenario): Promise<Uint8Array> {
  const setHash = validatorSetHash(genesisValidatorSet(genesis));
  let prev = genesisHash(genesis);
  let n = 0;
  for (let h = 1; h <= s.blocks; h++) {
    const time = TEST_GENESIS_TIME + 10_000 + h;
    const txs = Array.from({ length: s.txsPerBlock }, () => evidenceTx(++n, time));
    const header: BlockHeader = {
      chainId: genesis.chainId,
      height: h,
      prevHash: prev,
      txRoot: merkleRoot(txs.map((t) => t.hash)),
      txCount: txs.length,
      proposer: 0,
      view: 0,
      time,
      validatorSetHash: setHash,
    };
    const hash = headerHash(header);
    await store.commitBlock({
      header,
      hash,
      cert: certify(header),
      txs,
      records: txs.map((t) => decodeTxRecord(t.tx)),
    });
    prev = hash;
  }
  return prev;
}

async function run(s: Scenario): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'jrchain-bench-sync-'));
  const source = await LevelLedgerStore.open(join(dir, 'source'));
  const target = await LevelLedgerStore.open(join(dir, 'target'));
  const peers = new ValidatorPeers(genesis);
  const allowlist = {
    validators: genesis.validators.map((v) => ({ peerId: v.peerId, addrs: [] as string[] })),
  };
  const unlimited = {
    inboundFrames: { perSecond: 1e9, burst: 1e9 },
    inboundBytes: { perSecond: 1e12, burst: 1e12 },
  };
  // Two validators serve the chain: with f = 1 the second vouches for the client signatures the first serves
  // (docs/protocol.md, "Signatures at catch-up"); `--one-server` measures verifying every signature instead.
  const servers = Array.from({ length: s.servers }, (_, i) =>
    createP2PHost({
      seed: seedOf(i === 0 ? 0 : 2 + i),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      allowlist,
      limits: unlimited,
    }),
  );
  const client = createP2PHost({
    seed: seedOf(1),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    allowlist,
    limits: unlimited,
  });
  try {
    const head = await writeSource(source, s);
    const sync = DEFAULT_PROTOCOLS.find((p) => p.id === ProtocolId.sync);
    const maxResponseBytes = sync?.kind === 'request' ? sync.maxResponseBytes : 16 * 1024 * 1024;
    const syncServer = new SyncServer({
      store: source,
      stable: () => ({ seq: 0, headerHash: genesisHash(genesis), signatures: [] }),
      batchFor: () => undefined,
      maxResponseBytes,
    });
    for (const server of servers)
      server.onRequest(ProtocolId.sync, (_p, req, sig) => syncServer.handle(req, sig));
    await Promise.all([...servers.map((h) => h.start()), client.start()]);
    for (const server of servers) client.updatePeerAddrs(server.peerId, server.addrs());
    await until(() => servers.every((h) => client.connectedPeers().includes(h.peerId)));

    const chain = await LedgerChain.open(target, genesis);
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const quorum = makeQuorumContext(
      genesis.chainId,
      genesisValidatorSet(genesis),
      genesis.consensus.checkpointInterval,
      genesis.consensus.watermarkWindow,
      genesisHash(genesis),
      verifySignature,
    );
    const syncing = new StateSyncClient({
      host: client,
      peers,
      chain,
      quorum,
      // The bench chain has one epoch; nothing runs consensus here, so there is nothing to suspend.
      epochs: { setAt: (h) => chain.validatorSetAt(h), quorum: () => quorum, suspend: async () => {} },
      consensus: {
        transferred: (seq) => {
          if (seq === s.blocks) done();
        },
        peerProgress: () => {},
        stableSeq: () => 0,
        view: () => Number.POSITIVE_INFINITY,
      },
      onStored: () => {},
      onFault: (code) => {
        throw new Error(`sync fault ${code}`);
      },
      onFatal: (err) => {
        throw err;
      },
      now: () => Date.now(),
      logger: noopLogger,
    });
    const t0 = performance.now();
    syncing.requestTransfer(s.blocks, head);
    await finished;
    const seconds = (performance.now() - t0) / 1000;
    await syncing.stop();
    return {
      ...s,
      seconds,
      signatureVerifications: chain.signatureVerifications,
      blocksPerSec: s.blocks / seconds,
      txsPerSec: (s.blocks * s.txsPerBlock) / seconds,
    };
  } finally {
    await Promise.allSettled([...servers.map((h) => h.stop()), client.stop()]);
    await Promise.allSettled([source.close(), target.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error('timed out'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const program = new Command()
  .name('bench:sync')
  .option('--blocks <n>', 'blocks to sync (one scenario)', positive)
  .option('--txs-per-block <n>', 'txs per block (one scenario)', positive)
  .option('--one-server', 'one validator serves: no second one vouches, every client signature is verified')
  .option('--json', 'print JSON')
  .parse();
const opts = program.opts<{ blocks?: number; txsPerBlock?: number; oneServer?: boolean; json?: boolean }>();
const servers = opts.oneServer ? 1 : 2;
const scenarios: Scenario[] =
  opts.blocks !== undefined || opts.txsPerBlock !== undefined
    ? [{ blocks: opts.blocks ?? 500, txsPerBlock: opts.txsPerBlock ?? 4, servers }]
    : [
        { blocks: 1000, txsPerBlock: 4, servers },
        { blocks: 200, txsPerBlock: 100, servers },
        { blocks: 10, txsPerBlock: 2000, servers },
      ];
const results: Result[] = [];
for (const s of scenarios) results.push(await run(s));
if (opts.json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  console.log('blocks  txs/block  servers  seconds  blocks/s    tx/s  sig verifies');
  for (const r of results) {
    console.log(
      `${String(r.blocks).padStart(6)}  ${String(r.txsPerBlock).padStart(9)}  ${String(r.servers).padStart(7)}  ` +
        `${r.seconds.toFixed(2).padStart(7)}  ${r.blocksPerSec.toFixed(0).padStart(8)}  ` +
        `${r.txsPerSec.toFixed(0).padStart(6)}  ${String(r.signatureVerifications).padStart(12)}`,
    );
  }
}
