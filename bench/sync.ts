/**
 * State sync benchmark: how fast a node catches up. A child process serves a certified chain from a LevelDB
 * ledger (SyncServer) as two validators (`--one-server`: one); this process, starting from an empty LevelDB
 * ledger, syncs it with StateSyncClient over real libp2p on 127.0.0.1: fetch ranges, verify every certificate,
 * hash chain and txRoot, have the second validator vouch for the client signatures (docs/protocol.md,
 * "Signatures at catch-up"; with one server every signature is verified), execute every tx and commit each
 * block. The serving side runs in its own process, as the serving validators would on their own machines.
 *
 * The chain is bench/ledger-records.ts's: generated into a temporary ledger (`--blocks`, `--txs-per-block`;
 * untimed), or an existing one made by `npm run bench:gen-ledger` (`--ledger DIR`, not modified).
 * Run: `npm run bench:sync` (or `npm run bench:sync -- --blocks 500 --txs-per-block 4`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError } from 'commander';
import { makeQuorumContext } from '../src/consensus/certificates.ts';
import { fromHex, toHex, utf8 } from '../src/core/bytes.ts';
import { sha256, verifySignature } from '../src/core/crypto.ts';
import { genesisHash, genesisValidatorSet } from '../src/core/genesis.ts';
import { LedgerChain } from '../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../src/ledger/level-store.ts';
import { StateSyncClient } from '../src/node/net/state-sync.ts';
import { SyncServer } from '../src/node/net/sync-server.ts';
import { ValidatorPeers } from '../src/node/net/validator-peers.ts';
import { createP2PHost, DEFAULT_PROTOCOLS, noopLogger, ProtocolId } from '../src/p2p/index.ts';
import { profiled } from './cpu-profile.ts';
import { benchGenesis as genesis, readLedgerInfo, writeLedger, writeLedgerInfo } from './ledger-records.ts';

const seedOf = (i: number) => sha256(utf8.encode(`jrchain-test-key:validator-${i}`));
const allowlist = {
  validators: genesis.validators.map((v) => ({ peerId: v.peerId, addrs: [] as string[] })),
};
const unlimited = {
  inboundFrames: { perSecond: 1e9, burst: 1e9 },
  inboundBytes: { perSecond: 1e12, burst: 1e12 },
};
/** Validators 0 and 2 serve; this process syncs as validator 1. */
const SERVER_SEEDS = [0, 2];

interface Scenario {
  blocks: number;
  txsPerBlock: number;
  /** Validators serving the chain (1: nobody vouches for the signatures, so all are verified). */
  servers: number;
}

interface Result extends Scenario {
  txs: number;
  seconds: number;
  blocksPerSec: number;
  txsPerSec: number;
  /** CPU seconds of the syncing process per 1,000 txs (user + system). */
  cpuMsPerKtx: number;
  /** Garbage-collection pauses of the syncing process per 1,000 txs (ms). */
  gcMsPerKtx: number;
  /** Peak resident set of the syncing process (MB, since it started: with `--ledger`, mostly the sync). */
  maxRssMb: number;
  /** Client signatures the syncing ledger verified. */
  signatureVerifications: number;
}

/** Child mode: serve the ledger in `dir` as `servers` validators; print their addresses; run until stdin ends. */
async function serve(dir: string, servers: number): Promise<void> {
  const store = await LevelLedgerStore.open(dir);
  const sync = DEFAULT_PROTOCOLS.find((p) => p.id === ProtocolId.sync);
  const syncServer = new SyncServer({
    store,
    stable: () => ({ seq: 0, headerHash: genesisHash(genesis), signatures: [] }),
    batchFor: () => undefined,
    maxResponseBytes: sync?.kind === 'request' ? sync.maxResponseBytes : 16 * 1024 * 1024,
  });
  const hosts = SERVER_SEEDS.slice(0, servers).map((i) =>
    createP2PHost({ seed: seedOf(i), listen: ['/ip4/127.0.0.1/tcp/0'], allowlist, limits: unlimited }),
  );
  for (const h of hosts) h.onRequest(ProtocolId.sync, (_p, req, signal) => syncServer.handle(req, signal));
  await Promise.all(hosts.map((h) => h.start()));
  process.stdout.write(`${JSON.stringify(hosts.map((h) => ({ peerId: h.peerId, addrs: h.addrs() })))}\n`);
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on('end', resolve));
  await Promise.allSettled(hosts.map((h) => h.stop()));
  await store.close();
}

function startServers(dir: string, servers: number): { child: ChildProcess; peers: Promise<ServerPeer[]> } {
  const child = spawn(
    process.execPath,
    [import.meta.filename, '--serve', dir, '--servers', String(servers)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const peers = new Promise<ServerPeer[]>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`sync server exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) =>
      resolve(JSON.parse(line) as ServerPeer[]),
    );
  });
  return { child, peers };
}

interface ServerPeer {
  peerId: string;
  addrs: string[];
}

async function run(s: Scenario, ledger: string | undefined, prof?: string): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'jrchain-bench-sync-'));
  let child: ChildProcess | undefined;
  const client = createP2PHost({
    seed: seedOf(1),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    allowlist,
    limits: unlimited,
  });
  const target = await LevelLedgerStore.open(join(dir, 'target'));
  try {
    let sourceDir = ledger;
    if (sourceDir === undefined) {
      sourceDir = join(dir, 'source');
      const source = await LevelLedgerStore.open(sourceDir);
      const written = await writeLedger(source, s.blocks * s.txsPerBlock, s.txsPerBlock);
      await source.close();
      writeLedgerInfo(sourceDir, {
        ...written,
        txsPerBlock: s.txsPerBlock,
        headHash: toHex(written.headHash),
      });
    }
    const info = readLedgerInfo(sourceDir);
    const started = startServers(sourceDir, s.servers);
    child = started.child;
    const servers = await started.peers;
    await client.start();
    for (const p of servers) client.updatePeerAddrs(p.peerId, p.addrs);
    await until(() => servers.every((p) => client.connectedPeers().includes(p.peerId)));

    const chain = await LedgerChain.open(target, genesis);
    const quorum = makeQuorumContext(
      genesis.chainId,
      genesisValidatorSet(genesis),
      genesis.consensus.checkpointInterval,
      genesis.consensus.watermarkWindow,
      genesisHash(genesis),
      verifySignature,
    );
    const { promise: finished, resolve: done, reject: fail } = Promise.withResolvers<void>();
    const syncing = new StateSyncClient({
      host: client,
      peers: new ValidatorPeers(genesis),
      chain,
      quorum,
      // The bench chain has one epoch; nothing runs consensus here, so there is nothing to suspend.
      epochs: { setAt: (h) => chain.validatorSetAt(h), quorum: () => quorum, suspend: async () => {} },
      consensus: {
        transferred: (seq) => {
          if (seq === info.blocks) done();
        },
        peerProgress: () => {},
        // No core to finish blocks by consensus: ask again, as a core still behind would.
        stalled: async () => {
          setTimeout(() => syncing.requestTransfer(info.blocks, fromHex(info.headHash)), 100);
        },
        stableSeq: () => 0,
        view: () => Number.POSITIVE_INFINITY,
      },
      onStored: () => {},
      onFault: (code) => fail(new Error(`sync fault ${code}`)),
      onFatal: fail,
      now: () => Date.now(),
      logger: noopLogger,
    });
    let gcMs = 0;
    const gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcMs += e.duration;
    });
    gc.observe({ entryTypes: ['gc'] });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await profiled(prof, async () => {
      syncing.requestTransfer(info.blocks, fromHex(info.headHash));
      await finished;
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    gc.disconnect();
    await syncing.stop();
    return {
      blocks: info.blocks,
      txsPerBlock: info.txsPerBlock,
      servers: s.servers,
      txs: info.records,
      seconds,
      blocksPerSec: info.blocks / seconds,
      txsPerSec: info.records / seconds,
      cpuMsPerKtx: (cpu.user + cpu.system) / 1000 / (info.records / 1000),
      gcMsPerKtx: gcMs / (info.records / 1000),
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      signatureVerifications: chain.signatureVerifications,
    };
  } finally {
    child?.stdin?.end();
    await client.stop().catch(() => {});
    await target.close().catch(() => {});
    if (child !== undefined && child.exitCode === null) await new Promise((r) => child!.once('exit', r));
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
  .option('--ledger <dir>', 'sync a ledger made by `npm run bench:gen-ledger` instead of generating one')
  .option('--one-server', 'one validator serves: no second one vouches, every client signature is verified')
  .option('--serve <dir>', '(internal) serve the ledger in dir')
  .option('--servers <n>', '(internal) validators to serve as', positive, 2)
  .option('--json', 'print JSON')
  .option('--cpu-prof <file>', 'write a CPU profile of the timed sync (the last scenario) to file')
  .parse();
const opts = program.opts<{
  blocks?: number;
  txsPerBlock?: number;
  ledger?: string;
  oneServer?: boolean;
  serve?: string;
  servers: number;
  json?: boolean;
  cpuProf?: string;
}>();
if (opts.serve !== undefined) {
  await serve(opts.serve, opts.servers);
} else {
  const servers = opts.oneServer ? 1 : 2;
  const scenarios: Scenario[] =
    opts.ledger !== undefined || opts.blocks !== undefined || opts.txsPerBlock !== undefined
      ? [{ blocks: opts.blocks ?? 500, txsPerBlock: opts.txsPerBlock ?? 4, servers }]
      : [
          { blocks: 1000, txsPerBlock: 4, servers },
          { blocks: 200, txsPerBlock: 100, servers },
          { blocks: 10, txsPerBlock: 2000, servers },
        ];
  const results: Result[] = [];
  for (const s of scenarios) results.push(await run(s, opts.ledger, opts.cpuProf));
  if (opts.json) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    console.log(
      'blocks  txs/block  servers  seconds  blocks/s    tx/s  client CPU ms/1k tx  GC ms/1k tx  sig verifies',
    );
    for (const r of results) {
      console.log(
        `${String(r.blocks).padStart(6)}  ${String(r.txsPerBlock).padStart(9)}  ${String(r.servers).padStart(7)}  ` +
          `${r.seconds.toFixed(2).padStart(7)}  ${r.blocksPerSec.toFixed(0).padStart(8)}  ` +
          `${r.txsPerSec.toFixed(0).padStart(6)}  ${r.cpuMsPerKtx.toFixed(0).padStart(19)}  ` +
          `${r.gcMsPerKtx.toFixed(1).padStart(11)}  ` +
          `${String(r.signatureVerifications).padStart(12)}`,
      );
    }
  }
}
