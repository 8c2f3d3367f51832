/**
 * Block headers and commit certificates. A commit certificate is a quorum of validator signatures over
 * (chain id, view, height, header hash) under the `jrchain/commit/v1` domain: exactly the PBFT COMMIT votes
 * of one view, so it proves "committed" to anyone holding the validator set.
 */
import { toHex } from './bytes.ts';
import {
  CodecError,
  CodecErrorCode,
  decodeExact,
  expectVersion,
  invalidField,
  type Reader,
  Writer,
} from './codec.ts';
import { Domain, HASH_LENGTH, SIGNATURE_LENGTH, type verifySignature } from './crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from './crypto-suite.ts';
import { ExitCode, exitCodes, JrError } from './errors.ts';
import { ID_PATTERN, Limits } from './limits.ts';
import { consensusChainId, epochOf, quorumSize, type ValidatorSet } from './validators.ts';

export const HEADER_VERSION = 1;
export const CERT_VERSION = 1;

export interface BlockHeader {
  chainId: string;
  /** 1 for the first block; the genesis hash is block 1's prevHash. */
  height: number;
  prevHash: Uint8Array;
  /** RFC 9162 Merkle root over the tx hashes, in block order. */
  txRoot: Uint8Array;
  txCount: number;
  /** Index of the proposing validator in the set named by validatorSetHash. */
  proposer: number;
  /** The view in which the batch was proposed. */
  view: number;
  /** Block time, epoch milliseconds; never decreases along the chain. */
  time: number;
  validatorSetHash: Uint8Array;
}

export interface CommitSignature {
  validator: number;
  signature: Uint8Array;
}

export interface CommitCertificate {
  height: number;
  /** The view whose COMMIT votes form this certificate (may differ from header.view after a view change). */
  view: number;
  headerHash: Uint8Array;
  /** Strictly increasing validator indexes. */
  signatures: CommitSignature[];
}

function validateHeader(h: BlockHeader): void {
  if (!ID_PATTERN.test(h.chainId)) throw invalidField('bad chain id in header');
  if (!Number.isSafeInteger(h.height) || h.height < 1) throw invalidField('header height must be >= 1');
  if (h.txCount > Limits.blockTxs) throw invalidField(`header tx count above ${Limits.blockTxs}`);
  if (h.proposer >= Limits.validators) throw invalidField('proposer index out of range');
}

export function writeHeader(w: Writer, h: BlockHeader): void {
  validateHeader(h);
  w.u8(HEADER_VERSION)
    .string(h.chainId)
    .varint(h.height)
    .fixed(h.prevHash, HASH_LENGTH)
    .fixed(h.txRoot, HASH_LENGTH)
    .varint(h.txCount)
    .varint(h.proposer)
    .varint(h.view)
    .varint(h.time)
    .fixed(h.validatorSetHash, HASH_LENGTH);
}

export function readHeader(r: Reader): BlockHeader {
  expectVersion(r, HEADER_VERSION, 'header');
  const h: BlockHeader = {
    chainId: r.string(Limits.chainIdBytes, 'chain id'),
    height: r.varint('height'),
    prevHash: r.fixed(HASH_LENGTH, 'prevHash'),
    txRoot: r.fixed(HASH_LENGTH, 'txRoot'),
    txCount: r.varint('txCount'),
    proposer: r.varint('proposer'),
    view: r.varint('view'),
    time: r.varint('time'),
    validatorSetHash: r.fixed(HASH_LENGTH, 'validatorSetHash'),
  };
  validateHeader(h);
  return h;
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  const w = new Writer(160);
  writeHeader(w, h);
  return w.finish();
}

export function decodeHeader(bytes: Uint8Array): BlockHeader {
  return decodeExact(bytes, 256, 'header', readHeader);
}

/** The header hash under the chain's suite (SHA-256 or SM3; both 32 bytes, so the encodings do not change). */
export function headerHash(h: BlockHeader, suite: CryptoSuite = ED25519_SHA256): Uint8Array {
  return suite.taggedHash(Domain.header, encodeHeader(h));
}

/** The bytes each validator signs for its COMMIT vote and that a certificate's signatures cover. */
export function commitVoteBody(chainId: string, view: number, height: number, hash: Uint8Array): Uint8Array {
  return new Writer(96).string(chainId).varint(view).varint(height).fixed(hash, HASH_LENGTH).finish();
}

export function writeCertificate(w: Writer, c: CommitCertificate): void {
  w.u8(CERT_VERSION)
    .varint(c.height)
    .varint(c.view)
    .fixed(c.headerHash, HASH_LENGTH)
    .varint(c.signatures.length);
  let last = -1;
  for (const s of c.signatures) {
    if (s.validator <= last) throw invalidField('certificate signers must be strictly increasing');
    last = s.validator;
    w.varint(s.validator).fixed(s.signature, SIGNATURE_LENGTH);
  }
}

export function readCertificate(r: Reader): CommitCertificate {
  expectVersion(r, CERT_VERSION, 'commit certificate');
  const height = r.varint('height');
  const view = r.varint('view');
  const hash = r.fixed(HASH_LENGTH, 'header hash');
  const count = r.varintIn(1, Limits.validators, 'signature count');
  const signatures: CommitSignature[] = [];
  let last = -1;
  for (let i = 0; i < count; i++) {
    const validator = r.varintIn(0, Limits.validators - 1, 'signer index');
    if (validator <= last) {
      throw new CodecError(CodecErrorCode.nonCanonical, 'certificate signers must be strictly increasing');
    }
    last = validator;
    signatures.push({ validator, signature: r.fixed(SIGNATURE_LENGTH, 'signature') });
  }
  return { height, view, headerHash: hash, signatures };
}

export function encodeCertificate(c: CommitCertificate): Uint8Array {
  const w = new Writer(64 + c.signatures.length * 68);
  writeCertificate(w, c);
  return w.finish();
}

export function decodeCertificate(bytes: Uint8Array): CommitCertificate {
  return decodeExact(bytes, Limits.commitCertificateBytes, 'commit certificate', readCertificate);
}

export const CertErrorCode = {
  headerMismatch: 'CERT_HEADER_MISMATCH',
  heightMismatch: 'CERT_HEIGHT_MISMATCH',
  unknownValidator: 'CERT_UNKNOWN_VALIDATOR',
  badSignature: 'CERT_BAD_SIGNATURE',
  noQuorum: 'CERT_NO_QUORUM',
} as const;
export type CertErrorCode = (typeof CertErrorCode)[keyof typeof CertErrorCode];
/** A certificate that does not prove its block: the answer is "no". */
export const CertErrorExit = exitCodes(CertErrorCode, {
  headerMismatch: ExitCode.failed,
  heightMismatch: ExitCode.failed,
  unknownValidator: ExitCode.failed,
  badSignature: ExitCode.failed,
  noQuorum: ExitCode.failed,
});

export class CertError extends JrError {
  declare readonly code: CertErrorCode;
  constructor(code: CertErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}

/**
 * Checks that `cert` proves `header` committed: it names the header's hash and height, and carries valid
 * signatures from at least a quorum of distinct validators of `set`, signed for the chain of `genesisHash`
 * (null: without the genesis, as before ADR 010; only for v1/v2 receipts). Throws CertError naming the first
 * failure. `scheme` is the chain's crypto suite (its header hash and signatures; default Ed25519/SHA-256), or
 * a bare verify function (then with the default suite's header hash): the consensus simulation passes its own.
 */
export function verifyCommitCertificate(
  cert: CommitCertificate,
  header: BlockHeader,
  set: ValidatorSet,
  genesisHash: Uint8Array | null,
  scheme: CryptoSuite | typeof verifySignature = ED25519_SHA256,
): void {
  const suite = typeof scheme === 'function' ? ED25519_SHA256 : scheme;
  const verify = typeof scheme === 'function' ? scheme : scheme.verify;
  const hash = headerHash(header, suite);
  if (toHex(hash) !== toHex(cert.headerHash)) {
    throw new CertError(CertErrorCode.headerMismatch, 'certificate is for a different header', {
      height: header.height,
    });
  }
  if (cert.height !== header.height) {
    throw new CertError(
      CertErrorCode.heightMismatch,
      `certificate height ${cert.height} != ${header.height}`,
    );
  }
  const body = commitVoteBody(
    consensusChainId(header.chainId, genesisHash, epochOf(set)),
    cert.view,
    cert.height,
    cert.headerHash,
  );
  const n = set.validators.length;
  let last = -1;
  for (const s of cert.signatures) {
    const v = set.validators[s.validator];
    if (v === undefined || s.validator <= last) {
      throw new CertError(
        CertErrorCode.unknownValidator,
        `signer index ${s.validator} is not a distinct validator`,
      );
    }
    last = s.validator;
    if (!verify(v.publicKey, Domain.commit, body, s.signature)) {
      throw new CertError(
        CertErrorCode.badSignature,
        `bad signature from validator ${s.validator} (${v.institution})`,
        {
          validator: s.validator,
        },
      );
    }
  }
  const q = quorumSize(n);
  if (cert.signatures.length < q) {
    throw new CertError(
      CertErrorCode.noQuorum,
      `${cert.signatures.length} signatures, quorum is ${q} of ${n}`,
    );
  }
}
