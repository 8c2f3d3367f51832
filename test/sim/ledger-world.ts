/**
 * The production ledger for the driver simulation: each validator's chain is a LedgerChain
 * (src/ledger/ledger-chain.ts, with its GovernanceState) over a MemoryLedgerStore, opened on the test genesis
 * (four institutions, four Ed25519 validators); client txs are signed evidence txs. Blocks are executed,
 * certificates and tx signatures verified by the code that ships. State transfer copies a peer's stored
 * blocks and certificates through LedgerChain.commitBlock, which re-executes and checks them.
 * Consensus signatures are checked with Ed25519 too, through a memo (each distinct signature once per run).
 */
import { makeQuorumContext } from '../../src/consensus/certificates.ts';
import type { ConsensusDriver } from '../../src/consensus/driver.ts';
import type { EpochSource } from '../../src/consensus/interfaces.ts';
import type { SignatureVerifier, TransferredBlock } from '../../src/consensus/types.ts';
import type { Batch } from '../../src/core/batch.ts';
import { type CommitCertificate, verifyCommitCertificate } from '../../src/core/block.ts';
import { toHex } from '../../src/core/bytes.ts';
import { type Ed25519Signer, type Signer, verifySignature } from '../../src/core/crypto.ts';
import { type Genesis, genesisHash, genesisValidatorSet, parseGenesis } from '../../src/core/genesis.ts';
import { peerIdOf } from '../../src/core/keys.ts';
import type { ConsensusParams } from '../../src/core/params.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import type { ValidatorSet } from '../../src/core/validators.ts';
import type { BuiltBlock, ChainHead, TxRejection } from '../../src/ledger/chain.ts';
import { DEFAULT_VERIFIED_SIGNATURE_CACHE_SIZE, LedgerChain } from '../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../src/ledger/memory-store.ts';
import { VerifiedSignatures } from '../../src/ledger/sig-cache.ts';
import { StateSyncClient } from '../../src/node/net/state-sync.ts';
import { DEFAULT_STATE_SYNC_LIMITS } from '../../src/node/net/state-sync-deps.ts';
import { SyncServer } from '../../src/node/net/sync-server.ts';
import { ValidatorPeers } from '../../src/node/net/validator-peers.ts';
import { noopLogger, P2PError, P2PErrorCode, type P2PHost } from '../../src/p2p/index.ts';
import {
  evidenceTx,
  TEST_GENESIS_TIME,
  TEST_INSTITUTIONS,
  testGenesisJson,
  testSigner,
} from '../helpers/fixtures.ts';
import { genesis } from '../helpers/ledger.ts';
import { memoVerify, SimSigner, simVerify } from './crypto.ts';
import type { SimChain, World } from './driver-sim.ts';
import { SIM_PARAMS } from './harness.ts';

export class LedgerWorldChain implements SimChain {
  readonly chain: LedgerChain;
  readonly store: MemoryLedgerStore;
  readonly #genesisHash: Uint8Array;
  readonly #verify: SignatureVerifier;

  constructor(
    chain: LedgerChain,
    store: MemoryLedgerStore,
    genesisHash: Uint8Array,
    verify: SignatureVerifier,
  ) {
    this.chain = chain;
    this.store = store;
    this.#genesisHash = genesisHash;
    this.#verify = verify;
  }

  head(): ChainHead {
    return this.chain.head();
  }
  buildBlock(batch: Batch): Promise<BuiltBlock> {
    return this.chain.buildBlock(batch);
  }
  /**
   * The ledger's own certificate check, made here with the run's memo of verified signatures (every share of a
   * commit certificate is a COMMIT each replica and the observer already verified): same check, no second
   * Ed25519 verify per share and validator.
   */
  async commitBlock(block: BuiltBlock, cert: CommitCertificate): Promise<void> {
    const set = this.chain.validatorSetAt(block.header.height);
    verifyCommitCertificate(cert, block.header, set, this.#genesisHash, this.#verify);
    return this.chain.commitBlock(block, cert, { certificateVerified: true });
  }
  checkTx(env: TxEnvelope, nowMs: number): Promise<TxRejection | undefined> {
    return this.chain.checkTx(env, nowMs);
  }
  checkTxs(envs: readonly TxEnvelope[], nowMs: number): Promise<(TxRejection | undefined)[]> {
    return this.chain.checkTxs(envs, nowMs);
  }

  epochs(params: ConsensusParams): EpochSource {
    return {
      epochAt: (h) => ({ ...this.chain.epochAt(h), params }),
      headerHash: async (h) => (await this.hashAt(h))!,
    };
  }

  async hashAt(height: number): Promise<Uint8Array | undefined> {
    return height === 0 ? this.#genesisHash : (await this.store.block(height))?.hash;
  }

  async headCert(): Promise<CommitCertificate | undefined> {
    const h = this.chain.head().height;
    return h === 0 ? undefined : (await this.store.block(h))?.cert;
  }

  async copyFrom(source: SimChain, seq: number): Promise<TransferredBlock[]> {
    const src = (source as LedgerWorldChain).store;
    const out: TransferredBlock[] = [];
    for (let h = this.chain.head().height + 1; h <= seq; h++) {
      const stored = await src.block(h);
      const txs = await src.blockTxs(h);
      if (stored === undefined || txs === undefined) break;
      await this.chain.commitBlock(
        { header: stored.header, hash: stored.hash, txs, rejected: [] },
        stored.cert,
      );
      out.push({ seq: h, headerHash: stored.hash, txHashes: txs.map((t) => t.hash) });
    }
    return out;
  }

  async contents(): Promise<{ hash: Uint8Array; txs: string[] }[]> {
    const out: { hash: Uint8Array; txs: string[] }[] = [];
    for (let h = 1; h <= this.chain.head().height; h++) {
      out.push({
        hash: (await this.store.block(h))!.hash,
        txs: ((await this.store.blockTxs(h)) ?? []).map((t) => t.hashHex),
      });
    }
    return out;
  }
}

/** Signed txs are the same in every run: signed once per process. */
const txCache = new Map<number, TxEnvelope>();

function ledgerTx(nonce: number): TxEnvelope {
  let tx = txCache.get(nonce);
  if (tx === undefined) {
    tx = evidenceTx({
      institution: TEST_INSTITUTIONS[nonce % TEST_INSTITUTIONS.length]!,
      nonce: nonce + 1,
      createdAt: TEST_GENESIS_TIME + 1000,
    });
    txCache.set(nonce, tx);
  }
  return tx;
}

/**
 * The fixtures' Ed25519 signers (testSigner), made once per process: every run builds its world and governance
 * txs from the same keys, and making a key pair cost more than a tenth of a reconfiguration run.
 */
const signerCache = new Map<string, Ed25519Signer>();
export function signerOf(label: string): Ed25519Signer {
  let s = signerCache.get(label);
  if (s === undefined) {
    s = testSigner(label);
    signerCache.set(label, s);
  }
  return s;
}

/** The fixtures' validatorSigners(n) (the same keys), from signerOf. */
export function simValidatorSigners(n: number): Ed25519Signer[] {
  return Array.from({ length: n }, (_, i) => signerOf(`validator-${i}`));
}

/** The production-ledger world on the test genesis (four institutions, four validators). */
export function ledgerWorld(n: number): World {
  if (n !== 4) throw new RangeError('the ledger world has the test genesis: four validators');
  return worldOn(genesis(), simValidatorSigners(4));
}

/** Institution i's id: bank-a, bank-b, ... */
export const institutionId = (i: number) => `bank-${String.fromCharCode(97 + i)}`;

/**
 * A production-ledger world for reconfiguration: `validators + joiners` institutions, the first `validators` of
 * them validators at genesis; endpoint i holds validator key i, so the last `joiners` endpoints start outside
 * the set (governance adds them).
 */
export function reconfigWorld(validators: number, joiners: number): World {
  const json = testGenesisJson();
  const ids = Array.from({ length: validators + joiners }, (_, i) => institutionId(i));
  const signers = simValidatorSigners(validators + joiners);
  json.institutions = ids.map((id) => ({
    id,
    name: `Bank ${id.slice(-1).toUpperCase()}`,
    clientKeys: [{ keyId: 'client-1', publicKey: toHex(signerOf(`${id}/client-1`).publicKey) }],
  }));
  json.validators = signers.slice(0, validators).map((s, i) => ({
    institution: ids[i],
    publicKey: toHex(s.publicKey),
    addrs: [`/ip4/127.0.0.1/tcp/${4100 + i}`],
  }));
  return worldOn(parseGenesis(json), signers);
}

/**
 * Client tx signatures verified by any chain of this process: the load's txs are the same in every run (txCache),
 * so each is verified with Ed25519 once per process instead of once per validator and run. A forged signature is
 * other bytes, so it misses and is verified afresh (the cache remembers the exact signature bytes).
 */
const verifiedTxSignatures = new (class extends VerifiedSignatures {
  // A chain forgets the txs it committed (it will not see them again); the other chains sharing this will.
  override delete(): void {}
})(DEFAULT_VERIFIED_SIGNATURE_CACHE_SIZE);

/**
 * Consensus messages are signed by SimSigners standing in for the genesis' Ed25519 validator keys, and every
 * consensus signature (the drivers', the observer's, certificates in the ledger and in state sync) is checked with
 * simVerify: only the holder of a validator's SimSigner can sign for it, so a forgery fails as with Ed25519
 * (negative-controls.test.ts shows it), at a fraction of the cost. Client txs and governance txs keep their
 * Ed25519 signatures, checked by the ledger as in production.
 */
const simSigners = new Map<string, SimSigner>();
function consensusSigner(s: Signer): SimSigner {
  const key = toHex(s.publicKey);
  let signer = simSigners.get(key);
  if (signer === undefined) {
    signer = new SimSigner(`ledger-world-${key}`, s.publicKey);
    simSigners.set(key, signer);
  }
  return signer;
}

function worldOn(g: Genesis, ed25519: readonly Signer[]): World {
  const hash = genesisHash(g);
  const verify = memoVerify(simVerify);
  const signers = ed25519.map(consensusSigner);
  return {
    chainId: g.chainId,
    set: genesisValidatorSet(g),
    signers,
    verify,
    genesisHash: hash,
    t0: TEST_GENESIS_TIME + 2000,
    chain: async () => {
      const store = new MemoryLedgerStore();
      const chain = await LedgerChain.open(store, g, { verifiedSignatures: verifiedTxSignatures });
      return new LedgerWorldChain(chain, store, hash, verify);
    },
    tx: ledgerTx,
    stateSync: productionSync(g, signers, verify),
  };
}

/** What the production state sync client of one validator needs from the simulation. */
export interface SyncEnv {
  now(): number;
  /** Runs `fire` after `ms` of virtual time; returns its cancel. */
  after(ms: number, fire: () => void | Promise<void>): () => void;
  /** A random one-way network delay. */
  delay(): number;
  /** Whether validator `to` is running and reachable from `from`. */
  reachable(from: number, to: number): boolean;
  driver(i: number): ConsensusDriver | undefined;
  chain(i: number): SimChain;
  /** A block the client stored (for the agreement and validity checks). */
  onStored(i: number, block: BuiltBlock): void;
  fail(message: string): void;
  /** Validator p's rewrite of what its SyncServer answers (a lying peer); undefined for an honest one. */
  lie?(p: number): ((request: Uint8Array, response: Uint8Array) => Uint8Array) | undefined;
  /** The client of validator i caught peer p serving bad data. */
  caught?(i: number, p: number): void;
}

export interface SyncHandle {
  requestTransfer(targetSeq: number, headerHash: Uint8Array): void;
  poll(): void;
  stop(): void;
  /** The validator's driver entered an epoch with this set (its peers follow the set in force). */
  onEpoch(set: ValidatorSet): void;
}

/**
 * Validator i's StateSyncClient (src/node/net/state-sync.ts), asking its peers' SyncServers over the virtual
 * network: each request and response takes a network delay, and a peer that is down or cut off is unreachable.
 */
export function productionSync(
  g: Genesis,
  signers: readonly Signer[],
  verify: SignatureVerifier = verifySignature,
) {
  // Every endpoint's peer id (the validator key is the libp2p identity), joiners' too.
  const peerIds = signers.map((s) => peerIdOf(s.publicKey));
  return (i: number, env: SyncEnv): SyncHandle => syncClient(g, peerIds, verify, i, env);
}

function syncClient(
  g: Genesis,
  peerIds: readonly string[],
  verify: SignatureVerifier,
  i: number,
  env: SyncEnv,
): SyncHandle {
  const index = (peer: string) => peerIds.indexOf(peer);
  const genesis = genesisHash(g);
  const request = (peer: string, req: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> =>
    new Promise((resolve, reject) => {
      const p = index(peer);
      if (p < 0 || !env.reachable(i, p)) {
        reject(new P2PError(P2PErrorCode.notConnected, `validator ${p} unreachable`));
        return;
      }
      env.after(env.delay(), async () => {
        const d = env.driver(p);
        const chain = env.chain(p) as LedgerWorldChain;
        if (d === undefined) return reject(new P2PError(P2PErrorCode.notConnected, 'peer down'));
        const server = new SyncServer({
          store: chain.store,
          // As the node wires it: with no instance, the genesis checkpoint (peers ignore it as too low).
          stable: () =>
            d.currentEpoch().member ? d.stableCheckpoint() : { seq: 0, headerHash: genesis, signatures: [] },
          batchFor: (digest) => d.batchFor(digest),
          maxResponseBytes: 4 * 1024 * 1024,
        });
        const honest = await server.handle(req, new AbortController().signal);
        const lie = env.lie?.(p);
        const out = lie !== undefined && honest instanceof Uint8Array ? lie(req, honest) : honest;
        env.after(env.delay(), () => {
          if (signal?.aborted) reject(new P2PError(P2PErrorCode.notConnected, 'aborted'));
          else if (out instanceof Uint8Array) resolve(out);
          else reject(new P2PError(P2PErrorCode.notConnected, 'refused'));
        });
      });
    });
  const host: Partial<P2PHost> = {
    peerId: peerIds[i]!,
    request: (peer, _protocol, req, options) => request(peer, req, options?.signal),
    report: (peer) => {
      reported = index(peer);
    },
    connectedPeers: () => peerIds.filter((_, p) => p !== i && env.reachable(i, p)),
  };
  // The peer the client last reported (it reports a faulty peer just before onFault).
  let reported = -1;
  const me = env.chain(i) as LedgerWorldChain;
  const quorum = makeQuorumContext(
    g.chainId,
    genesisValidatorSet(g),
    SIM_PARAMS.checkpointInterval,
    SIM_PARAMS.watermarkWindow,
    genesisHash(g),
    verify,
  );
  const peers = new ValidatorPeers(g);
  const client = new StateSyncClient(
    {
      host: host as P2PHost,
      peers,
      chain: me.chain,
      quorum,
      epochs: {
        setAt: (h) => me.chain.epochAt(h).set,
        // As the node wires it: no context outside the set (a joiner then follows checked heads itself).
        quorum: () => env.driver(i)?.quorumContext(),
        suspend: async () => env.driver(i)?.suspend(),
      },
      consensus: {
        transferred: (seq, hash, blocks) => env.driver(i)?.stateTransferred(seq, hash, blocks),
        peerProgress: (checkpoint, head) => env.driver(i)?.peerProgress(checkpoint, head),
        stalled: async (head) => env.driver(i)?.transferStalled(head),
        stableSeq: () => (env.driver(i)?.currentEpoch().member ? env.driver(i)!.status().stableSeq : 0),
        view: () =>
          env.driver(i)?.currentEpoch().member ? env.driver(i)!.status().view : Number.POSITIVE_INFINITY,
      },
      onStored: (block) => env.onStored(i, block),
      onFault: (code) => {
        if (env.lie?.(reported) !== undefined) env.caught?.(i, reported);
        else env.fail(`sync fault at validator ${i} from an honest peer: ${code}`);
      },
      onFatal: (err) => env.fail(`sync fatal at validator ${i}: ${String(err)}`),
      now: env.now,
      setTimer: env.after,
      logger: noopLogger,
    },
    { ...DEFAULT_STATE_SYNC_LIMITS, blocksPerRequest: 16, retryMs: 200, statusIntervalMs: 500 },
  );
  return {
    requestTransfer: (seq, hash) => client.requestTransfer(seq, hash),
    poll: () => client.pollSoon(),
    // A crash: the client stops at once (its requests in flight are aborted when their answers arrive).
    stop: () => {
      void client.stop();
    },
    onEpoch: (set) => peers.update(set),
  };
}
