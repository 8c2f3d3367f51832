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
import { InvariantError, invariant } from '../core/errors.ts';
import type { EvidenceRecord } from '../core/evidence.ts';
import { type Genesis, genesisHash, genesisValidatorSet } from '../core/genesis.ts';
import { Limits } from '../core/limits.ts';
import { merkleRoot } from '../core/merkle.ts';
import type { TxEnvelope } from '../core/tx.ts';
import { type ValidatorSet, validatorSetHash } from '../core/validators.ts';
import type { BuiltBlock, Chain, ChainHead, TxRejection } from './chain.ts';
import { LedgerError, LedgerErrorCode, TxErrorCode } from './errors.ts';
import { type ClientKeys, checkStateless, checkTime, checkToken, clientKeysOf, reject } from './rules.ts';
import { VerifiedSignatures } from './sig-cache.ts';
import type { LedgerStore } from './store.ts';
import type { EvidenceTokenVerifier } from './token-verifier.ts';

export interface LedgerChainOptions {
  /** Verifies RFC 3161 tokens carried by evidence. Without one, txs carrying a token are rejected. */
  tokenVerifier?: EvidenceTokenVerifier | undefined;
  /** How many verified tx signatures to remember between admission and execution. */
  verifiedSignatureCacheSize?: number | undefined;
}

export const DEFAULT_VERIFIED_SIGNATURE_CACHE_SIZE = 65_536;

/** The chain head before the first block: height 0, the genesis hash and creation time. */
export function genesisHead(genesis: Genesis): ChainHead {
  return { height: 0, hash: genesisHash(genesis), time: genesis.createdAt };
}

interface Verdicts {
  included: TxEnvelope[];
  evidence: EvidenceRecord[];
  rejected: TxRejection[];
}

/** What buildBlock learned, kept for the commit of that very block (the object is frozen). */
interface BuildRecord {
  evidence: readonly EvidenceRecord[];
}

export class LedgerChain implements Chain {
  readonly store: LedgerStore;
  readonly genesis: Genesis;
  readonly validatorSet: ValidatorSet;
  readonly #validatorSetHash: Uint8Array;
  readonly #keys: ClientKeys;
  readonly #tokenVerifier: EvidenceTokenVerifier | undefined;
  readonly #verified: VerifiedSignatures;
  readonly #built = new WeakMap<BuiltBlock, BuildRecord>();
  #head: ChainHead;
  #queue: Promise<unknown> = Promise.resolve();
  #verifications = 0;

  private constructor(store: LedgerStore, genesis: Genesis, head: ChainHead, options: LedgerChainOptions) {
    this.store = store;
    this.genesis = genesis;
    this.validatorSet = genesisValidatorSet(genesis);
    this.#validatorSetHash = validatorSetHash(this.validatorSet);
    this.#keys = clientKeysOf(genesis);
    this.#tokenVerifier = options.tokenVerifier;
    this.#verified = new VerifiedSignatures(
      options.verifiedSignatureCacheSize ?? DEFAULT_VERIFIED_SIGNATURE_CACHE_SIZE,
    );
    this.#head = head;
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
      const setHash = validatorSetHash(genesisValidatorSet(genesis));
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
    return new LedgerChain(store, genesis, head ?? atGenesis, options);
  }

  head(): ChainHead {
    return this.#head;
  }

  /** Ed25519 verifications performed so far (signature-cache misses); for metrics and tests. */
  get signatureVerifications(): number {
    return this.#verifications;
  }

  async checkTx(env: TxEnvelope, nowMs: number): Promise<TxRejection | undefined> {
    const { rejected } = await this.#judge([env], nowMs, false);
    return rejected[0];
  }

  buildBlock(batch: Batch): Promise<BuiltBlock> {
    return this.#exclusive(() => this.#build(batch));
  }

  commitBlock(block: BuiltBlock, cert: CommitCertificate): Promise<void> {
    return this.#exclusive(() => this.#commit(block, cert));
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #build(batch: Batch): Promise<BuiltBlock> {
    this.#checkBatch(batch);
    const head = this.#head;
    const time = Math.max(head.time, batch.time);
    const { included, evidence, rejected } = await this.#judge(batch.txs, time, true);
    const txHashes = included.map((t) => t.hash);
    const header: BlockHeader = Object.freeze({
      chainId: this.genesis.chainId,
      height: head.height + 1,
      prevHash: head.hash,
      txRoot: merkleRoot(txHashes),
      txCount: included.length,
      proposer: batch.proposer,
      view: batch.view,
      time,
      validatorSetHash: this.#validatorSetHash,
    });
    const block: BuiltBlock = Object.freeze({
      header,
      hash: headerHash(header),
      txs: Object.freeze(included) as TxEnvelope[],
      rejected: Object.freeze(rejected) as TxRejection[],
    });
    this.#built.set(block, { evidence: Object.freeze(evidence) });
    return block;
  }

  /** Batch fields come from consensus; out-of-domain values are refused, never turned into a header. */
  #checkBatch(batch: Batch): void {
    const n = this.validatorSet.validators.length;
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
   * Applies every rule to `envs` in order at `time`. In a block (`inBlock`), txs past the block caps are
   * refused and a tx also conflicts with the txs included before it.
   */
  async #judge(envs: readonly TxEnvelope[], time: number, inBlock: boolean): Promise<Verdicts> {
    const verdicts: (TxRejection | EvidenceRecord)[] = [];
    const ctx = {
      chainId: this.genesis.chainId,
      keys: this.#keys,
      verified: this.#verified,
      remember: !inBlock,
      countVerify: () => {
        this.#verifications++;
      },
    };
    let bytes = 0;
    envs.forEach((env, i) => {
      bytes += env.bytes.length;
      if (inBlock && (i >= Limits.blockTxs || bytes > Limits.blockBytes)) {
        verdicts.push(reject(env, TxErrorCode.blockFull, `block is full at tx ${i} (${bytes} bytes)`));
      } else {
        verdicts.push(checkStateless(env, ctx));
      }
    });

    // One multi-get for the nonces of every tx still standing. A committed tx marks its nonce used, so only
    // a tx with a used nonce can be a committed duplicate: those few are looked up by hash.
    const standing = envs.filter((_, i) => !isRejection(verdicts[i]!));
    const used = await this.store.noncesUsed(standing.map((e) => e.tx));
    const state: UniqueState = {
      nonceUsed: new Set(),
      committed: new Set(),
      seenHashes: new Set(),
      seenNonces: new Set(),
    };
    for (const [i, env] of standing.entries()) {
      if (!used[i]) continue;
      state.nonceUsed.add(env.hashHex);
      if ((await this.store.tx(env.hash)) !== undefined) state.committed.add(env.hashHex);
    }

    const out: Verdicts = { included: [], evidence: [], rejected: [] };
    for (const [i, env] of envs.entries()) {
      const verdict = verdicts[i]!;
      if (isRejection(verdict)) {
        out.rejected.push(verdict);
        continue;
      }
      const rejection =
        checkUnique(env, state) ??
        checkTime(env, time) ??
        checkToken(env, verdict, time, this.#tokenVerifier);
      if (rejection !== undefined) {
        out.rejected.push(rejection);
        continue;
      }
      out.included.push(env);
      out.evidence.push(verdict);
      if (inBlock) {
        state.seenHashes.add(env.hashHex);
        state.seenNonces.add(nonceId(env));
      }
    }
    return out;
  }

  async #commit(block: BuiltBlock, cert: CommitCertificate): Promise<void> {
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
      equalBytes(headerHash(header), block.hash),
      'built block hash does not match its header',
      where,
    );
    invariant(equalBytes(cert.headerHash, block.hash), 'certificate is for another header', where);
    invariant(cert.height === header.height, `certificate height ${cert.height} != ${header.height}`, where);
    // Throws CertError (a code, not an invariant): sync may hand us a peer's certificate.
    verifyCommitCertificate(cert, header, this.validatorSet);

    const evidence = this.#built.get(block)?.evidence ?? (await this.#reexecute(block));
    await this.store.commitBlock({ header, hash: block.hash, cert, txs: block.txs, evidence });
    this.#head = { height: header.height, hash: block.hash, time: header.time };
    for (const t of block.txs) this.#verified.delete(t.hashHex);
  }

  /** A block this chain did not build (e.g. rebuilt elsewhere) must re-execute to exactly itself. */
  async #reexecute(block: BuiltBlock): Promise<readonly EvidenceRecord[]> {
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
    return this.#built.get(again)!.evidence;
  }
}

/** Rule results are a rejection or the decoded evidence; only a rejection has a code. */
function isRejection(v: TxRejection | EvidenceRecord): v is TxRejection {
  return 'code' in v;
}

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

/** Duplicate (the same tx) before replay (another tx with the nonce); committed or earlier in the block. */
function checkUnique(env: TxEnvelope, s: UniqueState): TxRejection | undefined {
  const { institution, nonce } = env.tx;
  if (s.committed.has(env.hashHex)) return reject(env, TxErrorCode.duplicate, 'the tx is already committed');
  if (s.seenHashes.has(env.hashHex)) {
    return reject(env, TxErrorCode.duplicate, 'the same tx appears earlier in the block');
  }
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
