/**
 * The per-tx validity rules, as pure functions of the tx, the genesis and a time. The executor
 * (ledger-chain.ts) adds the rules that need ledger state (duplicates, nonces) and runs them all in the order
 * of TxErrorCode, so each rejected tx gets exactly one code, the first rule it breaks.
 */
import { CodecError } from '../core/codec.ts';
import { decodeEvidence, type EvidenceRecord } from '../core/evidence.ts';
import type { Genesis } from '../core/genesis.ts';
import { Limits } from '../core/limits.ts';
import { type TxEnvelope, verifyTxEnvelope } from '../core/tx.ts';
import type { TxRejection } from './chain.ts';
import { TxErrorCode } from './errors.ts';
import type { VerifiedSignatures } from './sig-cache.ts';
import type { EvidenceTokenVerifier } from './token-verifier.ts';

export function reject(env: TxEnvelope, code: TxErrorCode, message: string): TxRejection {
  return { hash: env.hash, code, message };
}

/** Client keys from the genesis: institution id -> key id -> Ed25519 public key. */
export type ClientKeys = ReadonlyMap<string, ReadonlyMap<string, Uint8Array>>;

export function clientKeysOf(genesis: Genesis): ClientKeys {
  return new Map(
    genesis.institutions.map((i) => [i.id, new Map(i.clientKeys.map((k) => [k.keyId, k.publicKey]))]),
  );
}

export interface StatelessContext {
  chainId: string;
  keys: ClientKeys;
  verified: VerifiedSignatures;
  /**
   * Whether to remember signatures verified now. Admission does; execution only consults the cache, so a
   * large block cannot evict the entries it is about to use.
   */
  remember: boolean;
  /** Called once per Ed25519 verification actually performed (cache misses). */
  countVerify(): void;
}

/**
 * Size, chain, institution, key, signature and payload: everything that does not depend on time or ledger
 * state. Returns the decoded evidence of an acceptable tx.
 */
export function checkStateless(env: TxEnvelope, ctx: StatelessContext): TxRejection | EvidenceRecord {
  const { tx } = env;
  if (env.bytes.length > Limits.txBytes || tx.payload.length > Limits.txPayloadBytes) {
    return reject(env, TxErrorCode.oversize, `tx is ${env.bytes.length} bytes, limit ${Limits.txBytes}`);
  }
  if (tx.chainId !== ctx.chainId) {
    return reject(env, TxErrorCode.wrongChain, `tx is for chain ${tx.chainId}, this is ${ctx.chainId}`);
  }
  const keys = ctx.keys.get(tx.institution);
  if (keys === undefined) {
    return reject(env, TxErrorCode.unknownInstitution, `institution ${tx.institution} is not in the genesis`);
  }
  const publicKey = keys.get(tx.keyId);
  if (publicKey === undefined) {
    return reject(env, TxErrorCode.unknownKey, `institution ${tx.institution} has no key ${tx.keyId}`);
  }
  if (!ctx.verified.has(env.hashHex, tx.signature)) {
    ctx.countVerify();
    if (!verifyTxEnvelope(env, publicKey)) {
      return reject(
        env,
        TxErrorCode.badSignature,
        `signature does not verify under ${tx.institution}/${tx.keyId}`,
      );
    }
    if (ctx.remember) ctx.verified.add(env.hashHex, tx.signature);
  }
  try {
    return decodeEvidence(tx.payload);
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    return reject(env, TxErrorCode.malformedPayload, `evidence payload: ${err.message}`);
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
  let refusal: ReturnType<EvidenceTokenVerifier['verify']>;
  try {
    refusal = verifier.verify(evidence.tsToken, evidence, time);
  } catch (err) {
    // Tokens are outside input: a verifier that chokes on one refuses it rather than stopping the node.
    refusal = { code: 'VERIFIER_FAILED', message: (err as Error).message };
  }
  if (refusal === undefined) return undefined;
  return reject(env, TxErrorCode.badTimestampToken, `${refusal.code}: ${refusal.message}`);
}
