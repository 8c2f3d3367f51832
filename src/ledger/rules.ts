/**
 * The per-tx validity rules, as pure functions of the tx, the genesis, a time and (for anchors) the ledger
 * facts the executor looked up beforehand. The executor (ledger-chain.ts) adds the rules that need ledger
 * state (duplicates, nonces) and runs them all in the order of TxErrorCode, so each rejected tx gets exactly
 * one code, the first rule it breaks.
 */

import type { AnchorRecord } from '../core/anchor.ts';
import type { AuditHeadRecord } from '../core/audit-head.ts';
import type { BlockHeader } from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { CodecError } from '../core/codec.ts';
import type { CryptoSuite } from '../core/crypto-suite.ts';
import { invariant } from '../core/errors.ts';
import type { EvidenceRecord, HashAlg } from '../core/evidence.ts';
import type { Genesis } from '../core/genesis.ts';
import { decodeHashRenewal, type HashRenewalRequest } from '../core/hash-renewal.ts';
import { Limits } from '../core/limits.ts';
import { type TxEnvelope, VALIDATOR_KEY_ID, verifyTxEnvelope } from '../core/tx.ts';
import type { ValidatorSet } from '../core/validators.ts';
import type { TxRejection } from './chain.ts';
import { TxErrorCode } from './errors.ts';
import { decodeTxRecord, type TxRecord } from './records.ts';
import type { VerifiedSignatures } from './sig-cache.ts';
import type { LedgerTx } from './store.ts';
import type { AnchorTokenVerifier, EvidenceTokenVerifier, TokenRefusal } from './token-verifier.ts';

export function reject(env: TxEnvelope, code: TxErrorCode, message: string): TxRejection {
  return { hash: env.hash, code, message };
}

/** Client keys in force (the genesis plus governance): institution id -> key id -> Ed25519 public key. */
export type ClientKeys = ReadonlyMap<string, ReadonlyMap<string, Uint8Array>>;

export function clientKeysOf(genesis: Genesis): ClientKeys {
  return new Map(
    genesis.institutions.map((i) => [i.id, new Map(i.clientKeys.map((k) => [k.keyId, k.publicKey]))]),
  );
}

/** Validator keys of the current set: institution id -> Ed25519 public key. Anchor txs are signed with these. */
export type ValidatorKeys = ReadonlyMap<string, Uint8Array>;

export function validatorKeysOf(set: ValidatorSet): ValidatorKeys {
  return new Map(set.validators.map((v) => [v.institution, v.publicKey]));
}

export interface StatelessContext {
  chainId: string;
  keys: ClientKeys;
  validatorKeys: ValidatorKeys;
  verified: VerifiedSignatures;
  /**
   * Whether to remember signatures verified now. Admission does; execution only consults the cache, so a
   * large block cannot evict the entries it is about to use.
   */
  remember: boolean;
  /** Signature bytes vouched for by f+1 validators at certified catch-up (BuildOptions): not verified. */
  vouched?: boolean;
  /** Called once per signature verification actually performed (cache misses). */
  countVerify(): void;
  /** The chain's crypto suite (ADR 014); absent: Ed25519/SHA-256. */
  suite?: CryptoSuite;
}

const NOT_VALIDATOR = {
  anchor: TxErrorCode.anchorNotValidator,
  governance: TxErrorCode.govNotValidator,
  audit: TxErrorCode.auditNotValidator,
} as const;

/**
 * Size, chain, institution, key, signature and payload: everything that does not depend on time or ledger
 * state. Evidence txs are signed by a client key of the institution; anchor txs by the institution's
 * validator key, under the reserved key id. Returns the decoded payload of an acceptable tx.
 */
export function checkStateless(env: TxEnvelope, ctx: StatelessContext): TxRejection | TxRecord {
  const { tx } = env;
  if (env.bytes.length > Limits.txBytes || tx.payload.length > Limits.txPayloadBytes) {
    return reject(env, TxErrorCode.oversize, `tx is ${env.bytes.length} bytes, limit ${Limits.txBytes}`);
  }
  if (tx.chainId !== ctx.chainId) {
    return reject(env, TxErrorCode.wrongChain, `tx is for chain ${tx.chainId}, this is ${ctx.chainId}`);
  }
  const keys = ctx.keys.get(tx.institution);
  if (keys === undefined) {
    return reject(env, TxErrorCode.unknownInstitution, `institution ${tx.institution} is not registered`);
  }
  let publicKey: Uint8Array | undefined;
  if (tx.type === 'anchor' || tx.type === 'governance' || tx.type === 'audit') {
    publicKey = tx.keyId === VALIDATOR_KEY_ID ? ctx.validatorKeys.get(tx.institution) : undefined;
    if (publicKey === undefined) {
      return reject(
        env,
        NOT_VALIDATOR[tx.type],
        `${tx.type} txs are signed by a validator key of the set in force (key id "${VALIDATOR_KEY_ID}"); ${tx.institution}/${tx.keyId} is none`,
      );
    }
  } else {
    publicKey = keys.get(tx.keyId);
    if (publicKey === undefined) {
      return reject(env, TxErrorCode.unknownKey, `institution ${tx.institution} has no key ${tx.keyId}`);
    }
  }
  if (ctx.vouched !== true && !ctx.verified.has(env.hashHex, tx.signature)) {
    ctx.countVerify();
    if (!verifyTxEnvelope(env, publicKey, ctx.suite)) {
      return reject(
        env,
        TxErrorCode.badSignature,
        `signature does not verify under ${tx.institution}/${tx.keyId}`,
      );
    }
    if (ctx.remember) ctx.verified.add(env.hashHex, tx.signature);
  }
  try {
    return decodeTxRecord(tx, ctx.suite);
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    return reject(env, TxErrorCode.malformedPayload, `${tx.type} payload: ${err.message}`);
  }
}

/** Expiry and clock skew against `time` (the block time, or the node's clock at admission). */
export function checkTime(env: TxEnvelope, time: number): TxRejection | undefined {
  const { createdAt, ttlMs } = env.tx;
  // Differences, not sums: createdAt + ttlMs could pass 2^53.
  if (time - createdAt > ttlMs) {
    return reject(env, TxErrorCode.expired, `tx expired at ${createdAt + ttlMs}, time is ${time}`);
  }
  if (createdAt - time > Limits.txMaxFutureSkewMs) {
    return reject(env, TxErrorCode.notYetValid, `tx createdAt ${createdAt} is ahead of time ${time}`);
  }
  return undefined;
}

/** A carried RFC 3161 token must verify; with no verifier configured it cannot, so the tx is refused. */
export function checkToken(
  env: TxEnvelope,
  evidence: EvidenceRecord,
  time: number,
  verifier: EvidenceTokenVerifier | undefined,
): TxRejection | undefined {
  if (evidence.tsToken === undefined) return undefined;
  if (verifier === undefined) {
    return reject(
      env,
      TxErrorCode.timestampTokenUnsupported,
      'evidence carries a time-stamp token, and this ledger has no token verifier configured',
    );
  }
  const token = evidence.tsToken;
  const refusal = guarded(() => verifier.verify(token, evidence, time));
  if (refusal === undefined) return undefined;
  return reject(env, TxErrorCode.badTimestampToken, `${refusal.code}: ${refusal.message}`);
}

/** Tokens are outside input: a verifier that chokes on one refuses it rather than stopping the node. */
function guarded(verify: () => TokenRefusal | undefined): TokenRefusal | undefined {
  try {
    return verify();
  } catch (err) {
    return { code: 'VERIFIER_FAILED', message: (err as Error).message };
  }
}

/** What the anchor rules know about the ledger, looked up by the executor before it runs them. */
export interface AnchorFacts {
  /** The head at execution: only committed blocks can be anchored. */
  headHeight: number;
  /** The highest anchored height, counting anchors included earlier in the block. */
  anchoredHeight: number;
  /** The stored header and its hash at every height an anchor being judged names (1..headHeight). */
  headers: ReadonlyMap<number, { header: BlockHeader; hash: Uint8Array }>;
  verifier: AnchorTokenVerifier | undefined;
  /** The chain suite's hash (ADR 014), the imprint algorithm of an anchor's header-hash token; default sha256. */
  headerHashAlg?: 'sha256' | 'sm3';
  /** Each hash-renewal request a standing anchor lists (by tx hash, hex), as the store has it. */
  requests: ReadonlyMap<string, RequestFacts>;
  /** Requests stamped by anchors included earlier in the block. */
  stampedInBlock: Set<string>;
}

/** What the ledger holds about one request an anchor's hash renewal lists. */
export interface RequestFacts {
  /** The committed tx with that hash, if any. */
  tx: LedgerTx | undefined;
  /** Whether a committed anchor already stamped it. */
  stamped: boolean;
  /** The institution that recorded the evidence the request names (when it is a request). */
  recorder: string | undefined;
}

/**
 * An anchor must raise the anchored height, name a committed block by its stored header hash, and carry a
 * token over that hash that the verifier accepts at `time` (node clock at admission, block time at execution).
 */
export function checkAnchor(
  env: TxEnvelope,
  anchor: AnchorRecord,
  time: number,
  facts: AnchorFacts,
): TxRejection | undefined {
  const { height } = anchor;
  if (height <= facts.anchoredHeight) {
    return reject(
      env,
      TxErrorCode.anchorStale,
      `block ${height} is at or below the anchored height ${facts.anchoredHeight}`,
    );
  }
  if (height > facts.headHeight) {
    return reject(
      env,
      TxErrorCode.anchorAhead,
      `block ${height} is not committed; the head is ${facts.headHeight}`,
    );
  }
  const stored = facts.headers.get(height);
  invariant(stored !== undefined, `the executor did not look up header ${height} for an anchor`);
  if (!equalBytes(stored.hash, anchor.headerHash)) {
    return reject(
      env,
      TxErrorCode.anchorMismatch,
      `anchor names header ${toHex(anchor.headerHash)} at height ${height}; the stored one is ${toHex(stored.hash)}`,
    );
  }
  const { verifier } = facts;
  if (verifier === undefined) {
    return reject(env, TxErrorCode.anchorUnsupported, 'this ledger has no anchor token verifier configured');
  }
  const refusal = guarded(() =>
    verifier.verifyAnchor(anchor.token, anchor.headerHash, stored.header.time, time, facts.headerHashAlg),
  );
  if (refusal !== undefined) {
    return reject(env, TxErrorCode.badAnchorToken, `${refusal.code}: ${refusal.message}`);
  }
  // Archive and renewal roots are checked by whoever builds an evidence record from them (ADR 012); here
  // their tokens must be trusted, like the anchor's.
  for (const [what, stamp] of [
    ['archive timestamp', anchor.archive],
    ['renewal', anchor.renewal],
  ] as const) {
    if (stamp === undefined) continue;
    const r = guarded(() => verifier.verifyAnchor(stamp.token, stamp.root, stored.header.time, time));
    if (r !== undefined) return reject(env, TxErrorCode.badAnchorToken, `${what}: ${r.code}: ${r.message}`);
  }
  // Stamp renewals (ADR 018) likewise: trusted tokens under their hash; the exporter checks their roots.
  for (const x of anchor.stampRenewals ?? []) {
    const r = guarded(() => verifier.verifyAnchor(x.token, x.root, stored.header.time, time, x.hashAlg));
    if (r !== undefined)
      return reject(env, TxErrorCode.badAnchorToken, `stamp renewal: ${r.code}: ${r.message}`);
  }
  const h = anchor.hashRenewal;
  if (h === undefined) return undefined;
  const r = guarded(() => verifier.verifyAnchor(h.token, h.root, stored.header.time, time, h.hashAlg));
  if (r !== undefined)
    return reject(env, TxErrorCode.badAnchorToken, `hash renewal: ${r.code}: ${r.message}`);
  return checkHashRenewalStamp(env, h.hashAlg, h.requests, facts);
}

/**
 * Every request a hash renewal lists must be a committed `hash-renewal` tx under the stamp's hash, not stamped
 * before, by the institution that recorded its evidence (ADR 016). The leaves are the exporter's to check.
 */
function checkHashRenewalStamp(
  env: TxEnvelope,
  hashAlg: HashAlg,
  requests: readonly Uint8Array[],
  facts: AnchorFacts,
): TxRejection | undefined {
  for (const q of requests) {
    const id = toHex(q);
    const f = facts.requests.get(id);
    invariant(f !== undefined, `the executor did not look up hash renewal request ${id}`);
    const bad = (why: string) => reject(env, TxErrorCode.anchorBadHashRenewal, `request ${id} ${why}`);
    const tx = f.tx?.env.tx;
    if (tx?.type !== 'hash-renewal') return bad('is not a committed hash-renewal tx');
    if (decodeHashRenewal(tx.payload).hashAlg !== hashAlg) return bad(`is not a ${hashAlg} request`);
    if (f.recorder !== tx.institution) return bad(`is by ${tx.institution}, not the evidence's recorder`);
    if (f.stamped || facts.stampedInBlock.has(id)) return bad('is already stamped');
  }
  return undefined;
}

/** What the hash-renewal rules know, looked up by the executor: by evidence tx hash (hex). */
export interface HashRenewalFacts {
  /** The committed tx at each evidence tx hash a standing request names (undefined: none). */
  readonly evidence: ReadonlyMap<string, LedgerTx | undefined>;
  /** Evidence txs with a committed renewal request, plus those included earlier in the block. */
  readonly renewed: Set<string>;
}

/**
 * A hash-tree renewal request (ADR 016) must name a committed SHA-256 evidence tx recorded by the requesting
 * institution, not renewed before. Only the recorder may: a renewal changes the chain every later export of
 * that document carries, so a third party must not be able to attach one.
 */
export function checkHashRenewal(
  env: TxEnvelope,
  request: HashRenewalRequest,
  facts: HashRenewalFacts,
): TxRejection | undefined {
  const id = toHex(request.evidenceTx);
  const recorded = facts.evidence.get(id);
  if (recorded === undefined || recorded.env.tx.type !== 'evidence') {
    return reject(env, TxErrorCode.renewalUnknownEvidence, `no committed evidence tx has hash ${id}`);
  }
  if (recorded.env.tx.institution !== env.tx.institution) {
    return reject(
      env,
      TxErrorCode.renewalNotRecorder,
      `evidence ${id} was recorded by ${recorded.env.tx.institution}; only it may renew the document's hash`,
    );
  }
  const evidence = decodeTxRecord(recorded.env.tx);
  if (evidence.type !== 'evidence' || evidence.evidence.hashAlg !== 'sha256') {
    return reject(
      env,
      TxErrorCode.renewalNotArchived,
      `evidence ${id} is not a SHA-256 record, so no archive timestamp covers it`,
    );
  }
  if (facts.renewed.has(id)) {
    return reject(env, TxErrorCode.renewalAlreadyRequested, `evidence ${id} already has a hash renewal`);
  }
  return undefined;
}

/**
 * An audit head must raise the institution's committed audit log length (`committed`: the last seq committed
 * for it, counting heads earlier in the block; 0 when none). Validators never see the log, so this and the
 * validator signature are all they can check (ADR 015).
 */
export function checkAuditHead(
  env: TxEnvelope,
  audit: AuditHeadRecord,
  committed: number,
): TxRejection | undefined {
  if (audit.seq <= committed) {
    return reject(
      env,
      TxErrorCode.auditStale,
      `audit head ${audit.seq} of ${env.tx.institution} is not above its committed head ${committed}`,
    );
  }
  return undefined;
}
