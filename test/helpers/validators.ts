/**
 * Real validators for network tests: ValidatorServices over Level stores in temporary directories, talking
 * libp2p on 127.0.0.1. Nodes start one after another and each is told where the running ones listen, so the
 * later one dials the earlier ones (a connection from either side is enough). A stopped node keeps its data
 * directory and listen port, so it can come back as the same validator. Everything is torn down in stopAll(),
 * pass or fail.
 */
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/crypto.ts';
import { type Genesis, genesisSuite } from '../../src/core/genesis.ts';
import { type KeyPair, keyPairFromSeed } from '../../src/core/keys.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import { LedgerChain } from '../../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../src/ledger/level-store.ts';
import { MemoryLedgerStore } from '../../src/ledger/memory-store.ts';
import { NodeMetrics } from '../../src/node/metrics.ts';
import {
  type ValidatorLimits,
  ValidatorService,
  type ValidatorServiceOptions,
} from '../../src/node/validator.ts';
import { noopLogger } from '../../src/p2p/index.ts';
import { openChain } from './chain.ts';
import { docHash, evidenceTx, TEST_INSTITUTIONS, testGenesis } from './fixtures.ts';
import { genesis, removeDir, tempDir } from './ledger.ts';
import { LOOPBACK, RecordingLogger, waitFor } from './p2p.ts';

/** Small batches, a short batch wait and K = 16, so hundreds of blocks take seconds. */
export const NET_TEST_CONSENSUS = {
  maxBatchTxs: 4,
  maxBatchWaitMs: 5,
  checkpointInterval: 16,
  watermarkWindow: 64,
  requestTimeoutMs: 4000,
  viewChangeTimeoutMs: 1500,
  viewChangeTimeoutMaxMs: 6000,
};

/** Quick polls and retries, so catching up starts within a fraction of a second. */
export const NET_TEST_LIMITS: ValidatorLimits = {
  sync: { statusIntervalMs: 300, retryMs: 100, requestTimeoutMs: 5000 },
  consensus: { catchUpDelayMs: 300, retryMs: 300 },
  host: { backoff: { baseMs: 100, capMs: 1000 } },
};

/** The key of test validator `i` (the genesis of testGenesis() uses the same labels). */
export function validatorKey(i: number): KeyPair {
  return keyPairFromSeed(sha256(utf8.encode(`jrchain-test-key:validator-${i}`)));
}

export interface TestValidator {
  readonly index: number;
  readonly institution: string;
  readonly dir: string;
  readonly store: LevelLedgerStore;
  readonly chain: LedgerChain;
  readonly service: ValidatorService;
  readonly metrics: NodeMetrics;
  readonly logger: RecordingLogger;
  /** Heights this node committed through consensus (not sync), from its commit events. */
  readonly heights: number[];
  /** Heights this node stored by state sync. */
  readonly synced: number[];
}

/** A TCP address where nothing listens: a peer given it is never reached by dialling. */
export const UNREACHABLE = ['/ip4/127.0.0.1/tcp/1'];

export interface StartOptions {
  /** Start on this data directory (the node's previous one is reused by default). */
  dir?: string;
  limits?: ValidatorLimits;
  /** Dial addresses by peer id, over those of the running validators. */
  peerAddrs?: Record<string, string[]>;
  /** Start with this validator key instead of validatorKey(i) (a rotated key). */
  key?: KeyPair;
  /** Peer ids of observers this node admits. */
  observers?: string[];
}

/** The institution of test validator i: the genesis ones, then bank-e, bank-f... for validators added later. */
export function institutionOf(i: number): string {
  return TEST_INSTITUTIONS[i] ?? `bank-${String.fromCharCode(97 + i)}`;
}

export class ValidatorCluster {
  readonly genesis: Genesis;
  readonly nodes: (TestValidator | undefined)[] = [];
  readonly #limits: ValidatorLimits;
  readonly #dirs = new Map<number, string>();
  readonly #ports = new Map<number, number>();
  readonly #allDirs = new Set<string>();
  /** The key each running validator was started with. */
  readonly #keys = new Map<number, KeyPair>();
  readonly #keyOf: (i: number) => KeyPair;

  /** `chain`: another genesis (e.g. an sm2-sm3 one, ADR 014) and the key of its validator i. */
  constructor(
    consensus: Record<string, number> = NET_TEST_CONSENSUS,
    limits: ValidatorLimits = NET_TEST_LIMITS,
    chain?: { genesis: Genesis; key: (i: number) => KeyPair },
  ) {
    this.genesis = chain?.genesis ?? testGenesis({ consensus });
    this.#keyOf = chain?.key ?? validatorKey;
    this.#limits = limits;
  }

  get running(): TestValidator[] {
    return this.nodes.filter((n): n is TestValidator => n !== undefined);
  }

  /** The data directory validator i used last. */
  dir(i: number): string {
    const d = this.#dirs.get(i);
    if (d === undefined) throw new Error(`validator ${i} has no data directory`);
    return d;
  }

  node(i: number): TestValidator {
    const n = this.nodes[i];
    if (n === undefined) throw new Error(`validator ${i} is not running`);
    return n;
  }

  async startAll(count = this.genesis.validators.length): Promise<void> {
    for (let i = 0; i < count; i++) await this.start(i);
  }

  /** Starts validator i on its previous data directory and port (fresh ones the first time). */
  async start(i: number, opts: StartOptions = {}): Promise<TestValidator> {
    const dir = opts.dir ?? this.#dirs.get(i) ?? (await tempDir(`validator-${i}`));
    this.#dirs.set(i, dir);
    this.#allDirs.add(dir);
    const port = this.#ports.get(i) ?? 0;
    const store = await LevelLedgerStore.open(dir, genesisSuite(this.genesis));
    const chain = await LedgerChain.open(store, this.genesis);
    const metrics = new NodeMetrics();
    const logger = new RecordingLogger();
    const peerAddrs: Record<string, string[]> = {};
    for (const n of this.running) peerAddrs[this.#keys.get(n.index)!.peerId] = n.service.p2pAddrs();
    Object.assign(peerAddrs, opts.peerAddrs);
    const key = opts.key ?? this.#keyOf(i);
    this.#keys.set(i, key);
    const service = await ValidatorService.create({
      genesis: this.genesis,
      institution: institutionOf(i),
      key,
      store,
      chain,
      listen: [`/ip4/127.0.0.1/tcp/${port}`],
      peerAddrs,
      observers: opts.observers,
      logger,
      metrics,
      limits: { ...this.#limits, ...opts.limits },
    });
    const heights: number[] = [];
    const synced: number[] = [];
    const node: TestValidator = {
      index: i,
      institution: institutionOf(i),
      dir,
      store,
      chain,
      service,
      metrics,
      logger,
      heights,
      synced,
    };
    service.onCommit((c) => (c.source === 'sync' ? synced : heights).push(c.height));
    this.nodes[i] = node;
    try {
      await service.start();
    } catch (err) {
      await this.stop(i);
      throw err;
    }
    const bound = /\/tcp\/(\d+)/.exec(service.p2pAddrs()[0] ?? '');
    if (bound !== null) this.#ports.set(i, Number(bound[1]));
    return node;
  }

  /** Stops validator i and closes its store; its data directory stays unless `wipe`. */
  async stop(i: number, wipe = false): Promise<void> {
    const n = this.nodes[i];
    this.nodes[i] = undefined;
    if (n !== undefined) {
      await n.service.stop();
      await n.store.close();
    }
    if (wipe) {
      await removeDir(this.#dirs.get(i));
      this.#dirs.delete(i);
    }
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled(this.nodes.map((_, i) => this.stop(i)));
    await Promise.allSettled([...this.#allDirs].map(removeDir));
    this.#allDirs.clear();
  }

  /** Every running node (or those given) holds at least `height` blocks. */
  async waitHeight(height: number, nodes = this.running, timeoutMs?: number): Promise<void> {
    await waitFor(
      () => nodes.every((n) => n.chain.head().height >= height),
      `height ${height} on validators ${nodes.map((n) => n.index).join(', ')} (at ${nodes.map((n) => n.chain.head().height).join(', ')})`,
      timeoutMs,
    );
  }

  /** Nothing pending anywhere and every running node at the same height: the chain is quiet. */
  async waitQuiet(): Promise<number> {
    await waitFor(() => {
      const heights = new Set(this.running.map((n) => n.chain.head().height));
      return heights.size === 1 && this.running.every((n) => n.service.status().pendingTxs === 0);
    }, 'a quiet chain');
    return this.running[0]!.chain.head().height;
  }

  /** Every running node connected to every other running node. */
  async waitConnected(): Promise<void> {
    await waitFor(
      () => this.running.every((n) => n.service.status().connectedValidators === this.running.length),
      'running validators connected to each other',
    );
  }
}

/**
 * Submits full batches of txs across `nodes` until they hold `blocks` more blocks. At most two chunks of 50
 * blocks are pending at a time, as a steady client load would be.
 */
export async function growChain(
  cluster: ValidatorCluster,
  nodes: TestValidator[],
  blocks: number,
): Promise<number> {
  const start = Math.max(...nodes.map((n) => n.chain.head().height));
  const chunk = 50;
  for (let done = 0; done < blocks; done += chunk) {
    const txs = liveTxs(Math.min(chunk, blocks - done) * NET_TEST_CONSENSUS.maxBatchTxs, 'grow');
    await Promise.all(txs.map((t, j) => nodes[j % nodes.length]!.service.submit(t)));
    if (done > 0) await cluster.waitHeight(start + done, nodes, 90_000);
  }
  await cluster.waitHeight(start + blocks, nodes, 90_000);
  return Math.max(...nodes.map((n) => n.chain.head().height));
}

let nonce = 0;

/** Distinct evidence txs, valid now (created at the wall clock), from the test institutions in turn. */
export function liveTxs(count: number, label = 'net'): TxEnvelope[] {
  return Array.from({ length: count }, () => {
    nonce++;
    const institution = TEST_INSTITUTIONS[nonce % TEST_INSTITUTIONS.length]!;
    return evidenceTx({
      institution,
      nonce,
      createdAt: Date.now(),
      ttlMs: 3_600_000,
      evidence: { hash: docHash(`${label}-${nonce}`), caseId: `CASE-${label}-${nonce % 7}` },
    });
  });
}

/** Options for one validator (bank-b, validator key 1) over a fresh in-memory ledger of the test genesis. */
export async function validatorOptions(
  overrides: Partial<ValidatorServiceOptions> = {},
): Promise<ValidatorServiceOptions> {
  const store = new MemoryLedgerStore();
  return {
    genesis: genesis(),
    institution: 'bank-b',
    key: validatorKey(1),
    store,
    chain: await openChain(store),
    listen: [LOOPBACK],
    logger: noopLogger,
    metrics: new NodeMetrics(),
    ...overrides,
  };
}
