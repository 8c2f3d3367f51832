/**
 * LedgerChain: the executor behind the consensus contract (chain.ts). It judges txs (rules.ts plus the
 * duplicate and nonce rules, which need ledger state), builds blocks deterministically from batches, and
 * commits certified blocks through a LedgerStore. It does no I/O of its own beyond the store.
 *
 * buildBlock and commitBlock run one at a time, in call order: a block is always built against the head the
 * next commit extends. checkTx runs freely alongside them; execution re-checks everything it admitted.
 */
import type { Batch } from '../core/batch.ts';
import {
  type BlockHeader,
  type CommitCertificate,
  headerHash,
  verifyCommitCertificate,
} from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import type { CryptoSuite } from '../core/crypto-suite.ts';
import { InvariantError, invariant } from '../core/errors.ts';
import {
  type Genesis,
  genesisHash,
  genesisSuite,
  genesisValidatorSet,
  sealingRequired,
} from '../core/genesis.ts';
import type { GovernanceRecord } from '../core/governance.ts';
import { Limits } from '../core/limits.ts';
import { merkleRoot } from '../core/merkle.ts';
import type { TxEnvelope } from '../core/tx.ts';
import { type ValidatorSet, validatorSetHash } from '../core/validators.ts';
import { auditHeads, hashRenewalFacts, requestFacts } from './block-facts.ts';
import { CaseBook } from './case-book.ts';
import { CaseStats } from './case-stats.ts';
import type { BuildOptions, BuiltBlock, Chain, ChainHead, CommitOptions, TxRejection } from './chain.ts';
import { LedgerError, LedgerErrorCode, TxErrorCode } from './errors.ts';
import { type EpochInfo, GovernanceState } from './governance-state.ts';
import type { TxRecord } from './records.ts';
import {
  type AnchorFacts,
  checkAnchor,
  checkAuditHead,
  checkHashRenewal,
  checkStateless,
  checkTime,
  checkToken,
  type RequestFacts,
  reject,
  type StatelessContext,
  type ValidatorKeys,
  validatorKeysOf,
} from './rules.ts';
import { VerifiedSignatures } from './sig-cache.ts';
import type { CaseWrite, LedgerStore } from './store.ts';
import type { AnchorTokenVerifier, EvidenceTokenVerifier } from './token-verifier.ts';

export interface LedgerChainOptions {
  /** Verifies RFC 3161 tokens carried by evidence. Without one, txs carrying a token are rejected. */
  tokenVerifier?: EvidenceTokenVerifier | undefined;
  /** Verifies the RFC 3161 tokens of anchor txs. Without one, anchor txs are rejected. */
  anchorVerifier?: AnchorTokenVerifier | undefined;
  /** How many verified tx signatures to remember between admission and execution. */
  verifiedSignatureCacheSize?: number | undefined;
  /**
   * The verified tx signatures cache itself (default: a new one of verifiedSignatureCacheSize entries). Chains
   * of one genesis whose institutions' keys agree may share one: the simulation's validators do, across runs.
   */
  verifiedSignatures?: VerifiedSignatures | undefined;
}

export const DEFAULT_VERIFIED_SIGNATURE_CACHE_SIZE = 65_536;

/** The chain head before the first block: height 0, the genesis hash and creation time. */
export function genesisHead(genesis: Genesis): ChainHead {
  return { height: 0, hash: genesisHash(genesis), time: genesis.createdAt };
}

interface Verdicts {
  included: TxEnvelope[];
  records: TxRecord[];
  rejected: TxRejection[];
  /** Each input tx's rejection, or undefined when it is included; input order. */
  verdicts: (TxRejection | undefined)[];
  /** The registry after the included governance txs; undefined when there were none. */
  governance: GovernanceState | undefined;
  /** The cases the txs name, with the included events applied. */
  cases: CaseBook | undefined;
}

/** What buildBlock learned, kept for the commit of that very block (the object is frozen). */
interface BuildRecord {
  records: readonly TxRecord[];
  /** The governance state after this block, when its governance txs changed it. */
  governance: GovernanceState | undefined;
  /** The cases this block changed, and the statistics after it (docs/cases.md). */
  cases: readonly CaseWrite[];
  stats: CaseStats;
}

export class LedgerChain implements Chain {
  readonly store: LedgerStore;
  readonly genesis: Genesis;
  /** The registry as of the head (ADR 006): client keys, validator-set epochs, proposals. */
  readonly #genesisHash: Uint8Array;
  /** The genesis' crypto suite: every hash and signature of this chain (ADR 014). */
  readonly #suite: CryptoSuite;
  #gov: GovernanceState;
  /** Case statistics as of the head, maintained at execution. */
  #stats: CaseStats;
  /** Keys, set and set hash of the epoch in force for the next block, recomputed when the head moves. */
  #next!: { height: number; epoch: EpochInfo; setHash: Uint8Array; validatorKeys: ValidatorKeys };
  readonly #tokenVerifier: EvidenceTokenVerifier | undefined;
  readonly #anchorVerifier: AnchorTokenVerifier | undefined;
  readonly #verified: VerifiedSignatures;
  readonly #built = new WeakMap<BuiltBlock, BuildRecord>();
  #head: ChainHead;
  #queue: Promise<unknown> = Promise.resolve();
  #verifications = 0;

  private constructor(
    store: LedgerStore,
    genesis: Genesis,
    head: ChainHead,
    gov: GovernanceState,
    stats: CaseStats,
    options: LedgerChainOptions,
  ) {
    this.store = store;
    this.genesis = genesis;
    this.#genesisHash = genesisHash(genesis);
    this.#suite = genesisSuite(genesis);
    this.#gov = gov;
    this.#stats = stats;
    this.#tokenVerifier = options.tokenVerifier;
    this.#anchorVerifier = options.anchorVerifier;
    this.#verified =
      options.verifiedSignatures ??
      new VerifiedSignatures(options.verifiedSignatureCacheSize ?? DEFAULT_VERIFIED_SIGNATURE_CACHE_SIZE);
    this.#head = head;
    this.#refreshNext();
  }

  /** The validator set in force for the next block (head + 1). */
  get validatorSet(): ValidatorSet {
    return this.#next.epoch.set;
  }

  /** The epoch (validator set and consensus parameters) in force at `height` (>= 1), as far as the head knows. */
  epochAt(height: number): EpochInfo {
    return this.#gov.epochAt(height);
  }

  /** The validator set in force at `height`: what block `height`'s certificate must be signed by. */
  validatorSetAt(height: number): ValidatorSet {
    return this.#gov.epochAt(height).set;
  }

  /** Case statistics as of the head (read-only). */
  get caseStats(): CaseStats {
    return this.#stats;
  }

  /** The governance registry as of the head (read-only: callers must not apply txs to it). */
  get governance(): GovernanceState {
    return this.#gov;
  }

  #refreshNext(): void {
    const height = this.#head.height + 1;
    const epoch = this.#gov.epochAt(height);
    const prev = this.#next;
    if (prev?.epoch === epoch && prev.height === height) return;
    // The same epoch (its set is immutable) keeps its set hash and keys: no rehash of the set per block.
    const same = prev?.epoch === epoch;
    this.#next = {
      height,
      epoch,
      setHash: same ? prev.setHash : validatorSetHash(epoch.set, this.#suite),
      validatorKeys: same ? prev.validatorKeys : validatorKeysOf(epoch.set),
    };
  }

  /**
   * Opens the chain on `store`. A non-empty store must hold this genesis's chain: its first block names the
   * genesis hash, chain id and validator set, or this throws LEDGER_GENESIS_MISMATCH.
   */
  static async open(
    store: LedgerStore,
    genesis: Genesis,
    options: LedgerChainOptions = {},
  ): Promise<LedgerChain> {
    const atGenesis = genesisHead(genesis);
    const head = store.head();
    if (head !== undefined) {
      const first = await store.block(1);
      if (first === undefined) throw new InvariantError(`store has head ${head.height} but no block 1`);
      const h = first.header;
      const setHash = validatorSetHash(genesisValidatorSet(genesis), genesisSuite(genesis));
      if (
        h.chainId !== genesis.chainId ||
        !equalBytes(h.prevHash, atGenesis.hash) ||
        !equalBytes(h.validatorSetHash, setHash)
      ) {
        throw new LedgerError(
          LedgerErrorCode.genesisMismatch,
          `the store holds chain ${h.chainId} from another genesis than ${genesis.chainId}`,
        );
      }
    }
    const snapshot = store.governanceState();
    const gov =
      snapshot === undefined
        ? GovernanceState.fromGenesis(genesis)
        : GovernanceState.decode(snapshot, genesisSuite(genesis));
    const stats = CaseStats.decode(await store.caseStats());
    return new LedgerChain(store, genesis, head ?? atGenesis, gov, stats, options);
  }

  head(): ChainHead {
    return this.#head;
  }

  /** Ed25519 verifications performed so far (signature-cache misses); for metrics and tests. */
  get signatureVerifications(): number {
    return this.#verifications;
  }

  async checkTx(env: TxEnvelope, nowMs: number): Promise<TxRejection | undefined> {
    const { rejected } = await this.#judge([env], nowMs, this.#head, false);
    return rejected[0];
  }

  /**
   * checkTx for many txs at once, each judged on its own (as if alone) against the same head and time: one
   * multi-get for all their nonces instead of one store round trip per tx. Verdicts in input order.
   */
  async checkTxs(envs: readonly TxEnvelope[], nowMs: number): Promise<(TxRejection | undefined)[]> {
    if (envs.length === 0) return [];
    const { verdicts } = await this.#judge(envs, nowMs, this.#head, false);
    return verdicts;
  }

  buildBlock(batch: Batch, options: BuildOptions = {}): Promise<BuiltBlock> {
    return this.#exclusive(() => this.#build(batch, options.signaturesVouched === true));
  }

  commitBlock(block: BuiltBlock, cert: CommitCertificate, options: CommitOptions = {}): Promise<void> {
    return this.#exclusive(() => this.#commit(block, cert, options.certificateVerified === true));
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #build(batch: Batch, vouched = false): Promise<BuiltBlock> {
    this.#checkBatch(batch);
    const head = this.#head;
    const time = Math.max(head.time, batch.time);
    const judged = await this.#judge(batch.txs, time, head, true, vouched);
    const { included, records, rejected, governance, cases } = judged;
    const txHashes = included.map((t) => t.hash);
    const header: BlockHeader = Object.freeze({
      chainId: this.genesis.chainId,
      height: head.height + 1,
      prevHash: head.hash,
      txRoot: merkleRoot(txHashes, this.#suite),
      txCount: included.length,
      proposer: batch.proposer,
      view: batch.view,
      time,
      validatorSetHash: this.#next.setHash,
    });
    const block: BuiltBlock = Object.freeze({
      header,
      hash: headerHash(header, this.#suite),
      txs: Object.freeze(included) as TxEnvelope[],
      rejected: Object.freeze(rejected) as TxRejection[],
    });
    this.#built.set(block, {
      records: Object.freeze(records),
      governance,
      cases: cases?.writes() ?? [],
      stats: cases?.stats ?? this.#stats,
    });
    return block;
  }

  /** Batch fields come from consensus; out-of-domain values are refused, never turned into a header. */
  #checkBatch(batch: Batch): void {
    const n = this.#next.epoch.set.validators.length;
    const bad = (what: string) =>
      new LedgerError(LedgerErrorCode.invalidBatch, `batch ${what}`, { proposer: batch.proposer });
    if (!Number.isInteger(batch.proposer) || batch.proposer < 0 || batch.proposer >= n) {
      throw bad(`proposer must be a validator index below ${n}`);
    }
    if (!Number.isSafeInteger(batch.view) || batch.view < 0) throw bad('view must be a non-negative integer');
    if (!Number.isSafeInteger(batch.time) || batch.time < 0) throw bad('time must be non-negative epoch ms');
    if (!Array.isArray(batch.txs)) throw bad('txs must be an array');
  }

  /**
   * Applies every rule to `envs` in order at `time`, on top of `head`. In a block (`inBlock`), txs past the
   * block caps are refused and a tx also conflicts with the txs included before it. `vouched`: see BuildOptions.
   */
  async #judge(
    envs: readonly TxEnvelope[],
    time: number,
    head: ChainHead,
    inBlock: boolean,
    vouched = false,
  ): Promise<Verdicts> {
    const verdicts: (TxRejection | TxRecord)[] = [];
    this.#refreshNext();
    const height = head.height + 1;
    const ctx = this.#statelessContext(inBlock, vouched);
    let bytes = 0;
    envs.forEach((env, i) => {
      bytes += env.bytes.length;
      if (inBlock && (i >= Limits.blockTxs || bytes > Limits.blockBytes)) {
        verdicts.push(reject(env, TxErrorCode.blockFull, `block is full at tx ${i} (${bytes} bytes)`));
      } else {
        verdicts.push(checkStateless(env, ctx));
      }
    });
    const standing = envs.flatMap((env, i) => {
      const v = verdicts[i]!;
      return isRejection(v) ? [] : [{ env, record: v }];
    });
    const state = await this.#uniqueState(standing);
    const anchors = await this.#anchorFacts(standing, head);
    const renewals = await hashRenewalFacts(this.store, standing);
    const audits = await auditHeads(this.store, standing);
    const caseIds = standing.flatMap((s) => (s.record.type === 'case' ? [s.record.case.caseId] : []));
    const cases =
      caseIds.length === 0
        ? undefined
        : await CaseBook.load(this.store, caseIds, inBlock ? this.#stats.clone() : undefined);
    const caseCtx = {
      chainId: this.genesis.chainId,
      registry: this.#gov,
      height,
      time,
      sealingRequired: sealingRequired(this.genesis),
      suite: this.#suite,
    };

    const out: Verdicts = {
      included: [],
      records: [],
      rejected: [],
      verdicts: [],
      governance: undefined,
      cases,
    };
    // In a block, governance txs apply in order to one copy of the registry; checked alone, each to its own.
    for (const [i, env] of envs.entries()) {
      const verdict = verdicts[i]!;
      if (isRejection(verdict)) {
        out.rejected.push(verdict);
        out.verdicts.push(verdict);
        continue;
      }
      const rejection =
        checkUnique(env, state) ??
        checkTime(env, time) ??
        (verdict.type === 'evidence'
          ? checkToken(env, verdict.evidence, time, this.#tokenVerifier)
          : verdict.type === 'anchor'
            ? checkAnchor(env, verdict.anchor, time, anchors)
            : verdict.type === 'case'
              ? cases!.judge(env, verdict.case, out.included.length, caseCtx, inBlock)
              : verdict.type === 'hash-renewal'
                ? checkHashRenewal(env, verdict.renewal, renewals)
                : verdict.type === 'audit'
                  ? checkAuditHead(env, verdict.audit, audits.get(env.tx.institution) ?? 0)
                  : this.#applyGovernance(out, env, verdict.governance, height, time, inBlock));
      out.verdicts.push(rejection);
      if (rejection !== undefined) {
        out.rejected.push(rejection);
        continue;
      }
      out.included.push(env);
      out.records.push(verdict);
      if (inBlock) {
        state.seenHashes.add(env.hashHex);
        if (usesNonce(verdict)) state.seenNonces.add(nonceId(env));
        else if (verdict.type === 'anchor') {
          anchors.anchoredHeight = verdict.anchor.height;
          for (const q of verdict.anchor.hashRenewal?.requests ?? []) anchors.stampedInBlock.add(toHex(q));
        }
        if (verdict.type === 'hash-renewal') renewals.renewed.add(toHex(verdict.renewal.evidenceTx));
        else if (verdict.type === 'audit') audits.set(env.tx.institution, verdict.audit.seq);
      }
    }
    return out;
  }

  /** What the stateless rules read: keys in force, the signature cache, the chain's suite (ADR 014). */
  #statelessContext(inBlock: boolean, vouched: boolean): StatelessContext {
    return {
      chainId: this.genesis.chainId,
      keys: this.#gov.clientKeys(),
      validatorKeys: this.#next.validatorKeys,
      verified: this.#verified,
      remember: !inBlock,
      vouched,
      countVerify: () => {
        this.#verifications++;
      },
      suite: this.#suite,
    };
  }

  /** Judges and applies one governance tx on the block's working copy of the registry (or, alone, its own). */
  #applyGovernance(
    out: Verdicts,
    env: TxEnvelope,
    g: GovernanceRecord,
    height: number,
    time: number,
    inBlock: boolean,
  ): TxRejection | undefined {
    if (!inBlock) return this.#gov.clone().apply(env, g, height, time);
    out.governance ??= this.#gov.clone();
    return out.governance.apply(env, g, height, time);
  }

  /**
   * What the uniqueness rules need from the store. One multi-get for the nonces of every evidence tx still
   * standing: a committed evidence tx marks its nonce used, so only one with a used nonce can be a committed
   * duplicate, and those few are looked up by hash. Anchors use no nonce; each is looked up by hash.
   */
  async #uniqueState(standing: readonly { env: TxEnvelope; record: TxRecord }[]): Promise<UniqueState> {
    const state: UniqueState = {
      nonceUsed: new Set(),
      committed: new Set(),
      seenHashes: new Set(),
      seenNonces: new Set(),
    };
    const nonced = standing.filter((s) => usesNonce(s.record)).map((s) => s.env);
    const used = await this.store.noncesUsed(nonced.map((e) => e.tx));
    const suspects = [
      ...nonced.filter((_, i) => used[i]),
      ...standing.filter((s) => !usesNonce(s.record)).map((s) => s.env),
    ];
    for (const env of suspects) {
      if (env.tx.type !== 'anchor' && env.tx.type !== 'governance') state.nonceUsed.add(env.hashHex);
      if ((await this.store.tx(env.hash)) !== undefined) state.committed.add(env.hashHex);
    }
    return state;
  }

  /** The anchored height, and the stored header at each committed height a standing anchor tx names. */
  async #anchorFacts(
    standing: readonly { env: TxEnvelope; record: TxRecord }[],
    head: ChainHead,
  ): Promise<AnchorFacts> {
    const headers = new Map<number, { header: BlockHeader; hash: Uint8Array }>();
    const requests = new Map<string, RequestFacts>();
    for (const { record } of standing) {
      if (record.type !== 'anchor') continue;
      for (const q of record.anchor.hashRenewal?.requests ?? []) {
        const id = toHex(q);
        if (!requests.has(id)) requests.set(id, await requestFacts(this.store, q));
      }
      const { height } = record.anchor;
      if (height > head.height || headers.has(height)) continue;
      const [header] = await this.store.headers(height, height);
      invariant(header !== undefined, `block ${height} at or below the head ${head.height} is missing`);
      headers.set(height, { header, hash: headerHash(header, this.#suite) });
    }
    return {
      headHeight: head.height,
      // checkTx may read this while a commit finishes, so it may already count that block's anchors. They
      // name blocks at or below `head`, so the rules stay consistent; execution checks again anyway.
      anchoredHeight: this.store.anchorState().anchoredHeight,
      headers,
      verifier: this.#anchorVerifier,
      headerHashAlg: this.#suite.hashName,
      requests,
      stampedInBlock: new Set(),
    };
  }

  async #commit(block: BuiltBlock, cert: CommitCertificate, certificateVerified: boolean): Promise<void> {
    const head = this.#head;
    const { header } = block;
    const where = { height: header.height, head: head.height };
    invariant(
      header.height === head.height + 1,
      `commit of block ${header.height} on head ${head.height}`,
      where,
    );
    invariant(equalBytes(header.prevHash, head.hash), 'committed block does not extend the head', where);
    invariant(
      equalBytes(headerHash(header, this.#suite), block.hash),
      'built block hash does not match its header',
      where,
    );
    invariant(equalBytes(cert.headerHash, block.hash), 'certificate is for another header', where);
    invariant(cert.height === header.height, `certificate height ${cert.height} != ${header.height}`, where);
    // Throws CertError (a code, not an invariant): sync may hand us a peer's certificate. The set in force at
    // this height signs, in its epoch's domain of this genesis (ADR 006, ADR 010). Sync checked it already.
    if (!certificateVerified) {
      verifyCommitCertificate(
        cert,
        header,
        this.validatorSetAt(header.height),
        this.#genesisHash,
        this.#suite,
      );
    }

    const built = this.#built.get(block) ?? (await this.#reexecute(block));
    invariant(
      equalBytes(header.validatorSetHash, this.#next.setHash),
      'block does not name the validator set in force',
      where,
    );
    const governance = built.governance;
    await this.store.commitBlock({
      header,
      hash: block.hash,
      cert,
      txs: block.txs,
      records: built.records,
      governance: governance?.encode(),
      cases: built.cases,
      caseStats: built.stats === this.#stats ? undefined : built.stats.changedEntries(),
    });
    if (governance !== undefined) this.#gov = governance;
    this.#stats = built.stats;
    this.#head = { height: header.height, hash: block.hash, time: header.time };
    this.#refreshNext();
    for (const t of block.txs) this.#verified.delete(t.hashHex);
  }

  /** A block this chain did not build (e.g. rebuilt elsewhere) must re-execute to exactly itself. */
  async #reexecute(block: BuiltBlock): Promise<BuildRecord> {
    const { header } = block;
    const again = await this.#build({
      proposer: header.proposer,
      view: header.view,
      time: header.time,
      txs: block.txs,
    });
    invariant(
      again.rejected.length === 0 && equalBytes(again.hash, block.hash),
      `block ${header.height} does not re-execute to the same block`,
      { height: header.height, rejected: again.rejected.map((r) => `${toHex(r.hash)}: ${r.code}`) },
    );
    return this.#built.get(again)!;
  }
}

/** Rule results are a rejection or the decoded payload; only a rejection has a code. */
function isRejection(v: TxRejection | TxRecord): v is TxRejection {
  return 'code' in v;
}

/** Client-signed txs (evidence, case events, hash renewals) use up a nonce; validator-signed ones do not. */
const usesNonce = (r: TxRecord) => r.type === 'evidence' || r.type === 'case' || r.type === 'hash-renewal';

const nonceId = (env: TxEnvelope) => `${env.tx.institution}\n${env.tx.nonce}`;

/** What the uniqueness rules know: committed state (by tx hash) and the txs included so far. */
interface UniqueState {
  /** Txs whose (institution, nonce) a committed tx already used. */
  nonceUsed: Set<string>;
  /** Txs already committed. */
  committed: Set<string>;
  seenHashes: Set<string>;
  seenNonces: Set<string>;
}

/**
 * Duplicate (the same tx) before replay (another tx with the nonce); committed or earlier in the block.
 * Anchor and audit txs use no nonce: the anchored height (the audit seq), which must rise, already keeps each
 * one from counting twice.
 */
function checkUnique(env: TxEnvelope, s: UniqueState): TxRejection | undefined {
  const { institution, nonce } = env.tx;
  if (s.committed.has(env.hashHex)) return reject(env, TxErrorCode.duplicate, 'the tx is already committed');
  if (s.seenHashes.has(env.hashHex)) {
    return reject(env, TxErrorCode.duplicate, 'the same tx appears earlier in the block');
  }
  if (env.tx.type === 'anchor' || env.tx.type === 'audit') return undefined;
  if (s.nonceUsed.has(env.hashHex)) {
    return reject(env, TxErrorCode.replayedNonce, `nonce ${nonce} of ${institution} is already used`);
  }
  if (s.seenNonces.has(nonceId(env))) {
    return reject(
      env,
      TxErrorCode.replayedNonce,
      `nonce ${nonce} of ${institution} is used earlier in the block`,
    );
  }
  return undefined;
}
