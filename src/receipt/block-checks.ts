/**
 * The checks that prove one tx committed in one block of a chain: genesis, header, validator set, commit
 * certificate, tx, institution signature and Merkle inclusion. Each takes the receipt's fields as untrusted
 * JSON plus what earlier checks proved, returns a `CheckResult`, and never throws. Evidence receipts use them
 * in `verifyReceipt`; other receipt kinds (a case's timeline) reuse them per tx.
 */
import {
  type BlockHeader,
  CertError,
  type CommitCertificate,
  decodeCertificate,
  decodeHeader,
  headerHash,
  verifyCommitCertificate,
} from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { type Genesis, genesisHash, genesisSuite } from '../core/genesis.ts';
import { type InclusionProof, verifyInclusion } from '../core/merkle.ts';
import { parseTx, type TxEnvelope, type TxType, verifyTxEnvelope } from '../core/tx.ts';
import { decodeValidatorSet, epochOf, type ValidatorSet, validatorSetHash } from '../core/validators.ts';
import type { EpochInfo, GovernanceState } from '../ledger/governance-state.ts';
import { type CheckResult, evaluate, passed, reject } from './check.ts';
import { ReceiptFailureCode as Failure } from './errors.ts';
import {
  countField,
  decodedField,
  hexField,
  isoTime,
  listField,
  objectField,
  RECEIPT_OBJECT_FIELDS,
  shown,
} from './format.ts';

/**
 * The receipt names the chain of `genesis`: its chain id, crypto suite (`cryptoSuite`, absent for
 * ed25519-sha256, ADR 014) and genesis hash.
 */
export function checkGenesis(
  claim: { chainId: unknown; genesisHash: unknown; cryptoSuite?: unknown },
  g: Genesis,
  bound: boolean,
): CheckResult<void> {
  return evaluate(() => {
    if (claim.chainId !== g.chainId) {
      reject(Failure.wrongChain, `chain id ${shown(claim.chainId)} is not the genesis chain ${g.chainId}`);
    }
    const suite = genesisSuite(g).name;
    const claimedSuite = claim.cryptoSuite === undefined ? ED25519_SHA256.name : claim.cryptoSuite;
    if (claimedSuite !== suite) {
      reject(
        Failure.wrongGenesis,
        `receipt is of crypto suite ${shown(claimedSuite)}, the genesis chose ${suite}`,
      );
    }
    const hash = toHex(genesisHash(g));
    if (claim.genesisHash !== hash)
      reject(Failure.wrongGenesis, 'genesis hash does not match the genesis given');
    // Before ADR 010 (v1/v2) the validators signed the chain id, not the genesis hash: a second genesis with
    // the same chain id and validators accepts the same certificates. Saying so lets a reader weigh it.
    const binding = bound
      ? 'the validators sign the genesis hash'
      : 'bound by chain id and validator set only; the validators do not sign the genesis hash';
    return passed(undefined, `chain ${g.chainId}, genesis ${hash.slice(0, 16)}… (${binding})`);
  });
}

/**
 * `block` ({height, hash, header}) holds a header of this chain that hashes to `hash` and has `height`.
 * `what` names the field in failures (`block`, or e.g. `events[3].block`).
 */
export function checkHeader(block: unknown, g: Genesis, what = 'block'): CheckResult<BlockHeader> {
  return evaluate(() => {
    const b = objectField(block, what, RECEIPT_OBJECT_FIELDS.block);
    const h = decodedField(b.header, `${what}.header`, decodeHeader);
    if (toHex(headerHash(h, genesisSuite(g))) !== b.hash) {
      reject(Failure.hashMismatch, `${what}.hash is not the hash of ${what}.header`);
    }
    if (h.height !== b.height) reject(Failure.heightMismatch, `${what}.height does not match the header`);
    if (h.chainId !== g.chainId) reject(Failure.wrongChain, 'header is for another chain');
    return passed(h, `block ${h.height}, time ${isoTime(h.time, 'header time')}`);
  });
}

/**
 * The validator set carried (base64) is the one the header commits to, and the one in force at the header's
 * height (`inForce`, from the genesis and the governance replay).
 */
export function checkValidatorSet(
  setField: unknown,
  header: BlockHeader,
  inForce: EpochInfo,
  what = 'validatorSet',
  suite: CryptoSuite = ED25519_SHA256,
): CheckResult<ValidatorSet> {
  return evaluate(() => {
    const s = decodedField(setField, what, (b) => decodeValidatorSet(b, suite));
    const hash = validatorSetHash(s, suite);
    if (!equalBytes(hash, header.validatorSetHash)) {
      reject(Failure.validatorSetMismatch, 'validator set does not match the header commitment');
    }
    if (!equalBytes(hash, validatorSetHash(inForce.set, suite))) {
      reject(
        Failure.validatorSetMismatch,
        `the block is certified by the validator set of epoch ${epochOf(s)}; the governance txs in the ` +
          `receipt put the set of epoch ${inForce.epoch} in force at block ${header.height} ` +
          '(a governance block is missing, or the set is not the chain’s)',
      );
    }
    return passed(s, `${s.validators.length} validators, committed to by the header`);
  });
}

const certificateFailure = (err: unknown) =>
  err instanceof CertError ? Failure.badCertificate : Failure.malformed;

/**
 * A quorum of distinct validators of `set` signed the header, in the set's epoch signing domain of the genesis
 * `binding` (null: the chain id alone, v1/v2 receipts).
 */
export function checkCertificate(
  certField: unknown,
  header: BlockHeader,
  set: ValidatorSet,
  binding: Uint8Array | null,
  what = 'certificate',
  suite: CryptoSuite = ED25519_SHA256,
): CheckResult<CommitCertificate> {
  return evaluate(() => {
    const c = decodedField(certField, what, decodeCertificate);
    verifyCommitCertificate(c, header, set, binding, suite);
    const signers = c.signatures.map((s) => set.validators[s.validator]?.institution ?? `#${s.validator}`);
    return passed(
      c,
      `${c.signatures.length} of ${set.validators.length} validators signed (${signers.join(', ')})`,
    );
  }, certificateFailure);
}

/** The tx (base64) decodes, hashes to `txHash`, is of this chain and of type `type`. */
export function checkTx(
  txField: unknown,
  txHash: unknown,
  g: Genesis,
  type: TxType = 'evidence',
  what = 'tx',
): CheckResult<TxEnvelope> {
  return evaluate(() => {
    const e = decodedField(txField, what, (b) => parseTx(b, genesisSuite(g)));
    if (e.hashHex !== txHash) reject(Failure.hashMismatch, `${what}Hash is not the hash of ${what}`);
    if (e.tx.chainId !== g.chainId) reject(Failure.wrongChain, `${what} is for another chain`);
    if (e.tx.type !== type) reject(Failure.wrongTxType, `${what} type ${e.tx.type} is not ${type}`);
    return passed(e, `tx ${e.hashHex.slice(0, 16)}… from ${e.tx.institution}`);
  });
}

/** The registry in force at a block: the genesis plus the governance txs a receipt proves before it. */
export interface RegistryAt {
  /** The registry in force at `height` (as of the block below it). */
  state: GovernanceState;
  /** How many governance txs were replayed to get it; 0 means the genesis alone. */
  txs: number;
  height: number;
}

/** A client key of the tx's institution in force at the block (`registry`) signed the tx. */
export function checkSignature(
  env: TxEnvelope,
  registry: RegistryAt,
  suite: CryptoSuite = ED25519_SHA256,
): CheckResult<void> {
  return evaluate(() => {
    const { institution, keyId } = env.tx;
    const key = registry.state.clientKeys().get(institution)?.get(keyId);
    if (key === undefined) {
      const inst = registry.state.institutions().find((i) => i.id === institution);
      const where = registry.txs === 0 ? 'the genesis' : 'the genesis and the governance txs of the receipt';
      if (inst === undefined) {
        reject(Failure.unknownInstitution, `institution ${institution} is not registered by ${where}`);
      }
      if (inst.revokedKeys.includes(keyId)) {
        reject(Failure.revokedKey, `${institution}/${keyId} was revoked before block ${registry.height}`);
      }
      reject(Failure.unknownKey, `${institution}/${keyId} is not a client key registered by ${where}`);
    }
    if (!verifyTxEnvelope(env, key, suite))
      reject(Failure.badSignature, 'institution signature does not verify');
    return passed(undefined, `signed by ${institution}/${keyId}`);
  });
}

/**
 * The proof ({leafIndex, treeSize, path}) leads from the tx hash to the header's txRoot, and the tree is the
 * block's whole tx list. A missing `path` is read as empty (a block of one tx), as verifiers always have.
 */
export function checkInclusion(
  env: TxEnvelope,
  inclusion: unknown,
  header: BlockHeader,
  what = 'inclusion',
  suite: CryptoSuite = ED25519_SHA256,
): CheckResult<InclusionProof> {
  return evaluate(() => {
    const i = objectField(inclusion, what, RECEIPT_OBJECT_FIELDS.inclusion);
    const proof: InclusionProof = {
      leafIndex: countField(i.leafIndex, `${what}.leafIndex`),
      treeSize: countField(i.treeSize, `${what}.treeSize`),
      path: listField(i.path, `${what}.path`).map((p, k) => hexField(p, `${what}.path[${k}]`)),
    };
    if (proof.treeSize !== header.txCount) {
      reject(Failure.badInclusion, 'proof tree size is not the block tx count');
    }
    if (!verifyInclusion(env.hash, proof, header.txRoot, suite)) {
      reject(Failure.badInclusion, 'Merkle proof does not lead to txRoot');
    }
    return passed(proof, `tx ${proof.leafIndex + 1} of ${header.txCount} in the block's Merkle tree`);
  });
}
