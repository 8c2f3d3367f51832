/**
 * PBFT messages: types, the canonical wire encoding, and the exact bytes each signature covers
 * (docs/protocol.md, "Messages").
 *
 * Wire form of every message: `u8 version (1) | u8 type | body | signature (64 bytes)`. Every body starts with
 * the chain id and the sender's validator index. Votes (PRE-PREPARE, PREPARE, COMMIT, CHECKPOINT) sign a short
 * body without the sender, so the same signatures can be collected into certificates: a prepared certificate,
 * a checkpoint proof, and the block's commit certificate (the COMMIT body is `commitVoteBody` of block.ts).
 * VIEW-CHANGE and NEW-VIEW sign their whole body.
 *
 * A PRE-PREPARE carries the whole batch; its signature covers the batch digest. Prepared certificates and the
 * PRE-PREPAREs re-issued inside NEW-VIEW carry only digests (batch bodies are fetched: see catch-up.ts).
 */
import { type Batch, batchDigest } from '../core/batch.ts';
import { type CommitSignature, commitVoteBody } from '../core/block.ts';
import {
  CodecError,
  CodecErrorCode,
  decodeExact,
  expectVersion,
  invalidField,
  type Reader,
  Writer,
} from '../core/codec.ts';
import { Domain, HASH_LENGTH, SIGNATURE_LENGTH } from '../core/crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { Limits } from '../core/limits.ts';
import { parseTx } from '../core/tx.ts';
import { CONSENSUS_CHAIN_ID_BYTES, CONSENSUS_CHAIN_ID_PATTERN } from '../core/validators.ts';

export const MESSAGE_VERSION = 1;
export const BATCH_RECORD_VERSION = 1;

/** Hard caps on what the decoder accepts, independent of the genesis parameters. */
export const MessageLimits = {
  /** A whole encoded message: a maximal batch plus framing, or a NEW-VIEW. */
  messageBytes: Limits.blockBytes + 4 * 1024 * 1024,
  /** Prepared certificates in one VIEW-CHANGE; the watermark window may not exceed it. */
  preparedCertificates: 4096,
  /** Re-issued PRE-PREPAREs in one NEW-VIEW. */
  reissued: 4096,
} as const;

export const MessageTypeCode = {
  prePrepare: 1,
  prepare: 2,
  commit: 3,
  checkpoint: 4,
  viewChange: 5,
  newView: 6,
} as const;
export type MessageType = keyof typeof MessageTypeCode;
const typeByCode = new Map<number, MessageType>(
  Object.entries(MessageTypeCode).map(([k, v]) => [v, k as MessageType] as const),
);

/** A validator index with its signature; certificates hold these sorted by strictly increasing index. */
export type SignatureShare = CommitSignature;

interface Base {
  chainId: string;
  /** Sender's validator index. */
  from: number;
  signature: Uint8Array;
}

export interface PrePrepare extends Base {
  type: 'prePrepare';
  view: number;
  seq: number;
  batch: Batch;
  /** batchDigest(batch): not on the wire, computed when the message is made or decoded. */
  digest: Uint8Array;
}

export interface Prepare extends Base {
  type: 'prepare';
  view: number;
  seq: number;
  digest: Uint8Array;
}

export interface Commit extends Base {
  type: 'commit';
  view: number;
  seq: number;
  /** Header hash of the block built from the prepared batch. */
  headerHash: Uint8Array;
}

export interface Checkpoint extends Base {
  type: 'checkpoint';
  seq: number;
  /** Header hash of the block at `seq`. */
  headerHash: Uint8Array;
}

/** A quorum of CHECKPOINT signatures for (seq, headerHash); seq 0 (genesis) has none. */
export interface CheckpointProof {
  seq: number;
  headerHash: Uint8Array;
  signatures: SignatureShare[];
}

/** The primary's PRE-PREPARE signature plus quorum−1 PREPARE signatures from other validators. */
export interface PreparedCertificate {
  view: number;
  seq: number;
  digest: Uint8Array;
  prePrepareSignature: Uint8Array;
  prepares: SignatureShare[];
}

export interface ViewChange extends Base {
  type: 'viewChange';
  newView: number;
  checkpoint: CheckpointProof;
  /** Strictly increasing seq, all above checkpoint.seq. */
  prepared: PreparedCertificate[];
}

/** A PRE-PREPARE re-issued by the new primary: digest only, signed like any PRE-PREPARE of its view. */
export interface ReissuedPrePrepare {
  seq: number;
  digest: Uint8Array;
  signature: Uint8Array;
}

export interface NewView extends Base {
  type: 'newView';
  view: number;
  /** Strictly increasing senders, all for `view`. */
  viewChanges: ViewChange[];
  /** Strictly increasing seq, contiguous from the chosen checkpoint + 1. */
  prePrepares: ReissuedPrePrepare[];
}

export type ConsensusMessage = PrePrepare | Prepare | Commit | Checkpoint | ViewChange | NewView;

/** A message without its signature (distributes over the union). */
export type Unsigned<M extends ConsensusMessage> = M extends unknown ? Omit<M, 'signature'> : never;

// ---- signing bodies -------------------------------------------------------------------------------------

function voteBody(chainId: string, view: number, seq: number, digest: Uint8Array): Uint8Array {
  return new Writer(96).string(chainId).varint(view).varint(seq).fixed(digest, HASH_LENGTH).finish();
}

/** PRE-PREPARE signature body, under Domain.prePrepare: chainId, view, seq, batch digest. */
export function prePrepareBody(chainId: string, view: number, seq: number, digest: Uint8Array): Uint8Array {
  return voteBody(chainId, view, seq, digest);
}

/** PREPARE signature body, under Domain.prepare: chainId, view, seq, batch digest. */
export function prepareBody(chainId: string, view: number, seq: number, digest: Uint8Array): Uint8Array {
  return voteBody(chainId, view, seq, digest);
}

/** CHECKPOINT signature body, under Domain.checkpoint: chainId, seq, header hash. */
export function checkpointBody(chainId: string, seq: number, headerHash: Uint8Array): Uint8Array {
  return new Writer(96).string(chainId).varint(seq).fixed(headerHash, HASH_LENGTH).finish();
}

/** The domain and bytes a message's signature covers. */
export function signedPart(m: ConsensusMessage): { domain: Domain; body: Uint8Array } {
  switch (m.type) {
    case 'prePrepare':
      return { domain: Domain.prePrepare, body: prePrepareBody(m.chainId, m.view, m.seq, m.digest) };
    case 'prepare':
      return { domain: Domain.prepare, body: prepareBody(m.chainId, m.view, m.seq, m.digest) };
    case 'commit':
      return { domain: Domain.commit, body: commitVoteBody(m.chainId, m.view, m.seq, m.headerHash) };
    case 'checkpoint':
      return { domain: Domain.checkpoint, body: checkpointBody(m.chainId, m.seq, m.headerHash) };
    case 'viewChange': {
      const w = new Writer(256);
      writeViewChangeBody(w, m);
      return { domain: Domain.viewChange, body: w.finish() };
    }
    case 'newView': {
      const w = new Writer(1024);
      writeNewViewBody(w, m);
      return { domain: Domain.newView, body: w.finish() };
    }
  }
}

// ---- building blocks --------------------------------------------------------------------------------------

function writeSignatures(w: Writer, sigs: readonly SignatureShare[]): void {
  w.varint(sigs.length);
  let last = -1;
  for (const s of sigs) {
    if (s.validator <= last) throw invalidField('signers must be strictly increasing');
    last = s.validator;
    w.varint(s.validator).fixed(s.signature, SIGNATURE_LENGTH);
  }
}

function readSignatures(r: Reader, what: string): SignatureShare[] {
  const count = r.varintIn(0, Limits.validators, `${what} count`);
  const out: SignatureShare[] = [];
  let last = -1;
  for (let i = 0; i < count; i++) {
    const validator = r.varintIn(0, Limits.validators - 1, `${what} signer`);
    if (validator <= last) {
      throw new CodecError(CodecErrorCode.nonCanonical, `${what} signers must be strictly increasing`);
    }
    last = validator;
    out.push({ validator, signature: r.fixed(SIGNATURE_LENGTH, `${what} signature`) });
  }
  return out;
}

export function writeBatch(w: Writer, b: Batch): void {
  w.varint(b.proposer).varint(b.view).varint(b.time).varint(b.txs.length);
  for (const t of b.txs) w.bytes(t.bytes);
}

/** Reads a batch; `suite` is the chain's (ADR 014): it hashes the txs, whose hashes feed the block's Merkle tree. */
export function readBatch(r: Reader, suite: CryptoSuite = ED25519_SHA256): Batch {
  const proposer = r.varintIn(0, Limits.validators - 1, 'batch proposer');
  const view = r.varint('batch view');
  const time = r.varint('batch time');
  const count = r.varintIn(0, Limits.blockTxs, 'batch tx count');
  const txs = [];
  for (let i = 0; i < count; i++) txs.push(parseTx(r.bytes(Limits.txBytes, 'tx'), suite));
  return { proposer, view, time, txs };
}

/** A batch on its own (persisted batch records): version byte, then the batch. */
export function encodeBatch(b: Batch): Uint8Array {
  const w = new Writer(64 + b.txs.reduce((n, t) => n + t.bytes.length + 3, 0));
  w.u8(BATCH_RECORD_VERSION);
  writeBatch(w, b);
  return w.finish();
}

export function decodeBatch(bytes: Uint8Array, suite: CryptoSuite = ED25519_SHA256): Batch {
  return decodeExact(bytes, MessageLimits.messageBytes, 'batch', (r) => {
    expectVersion(r, BATCH_RECORD_VERSION, 'batch');
    return readBatch(r, suite);
  });
}

export function writeCheckpointProof(w: Writer, p: CheckpointProof): void {
  w.varint(p.seq).fixed(p.headerHash, HASH_LENGTH);
  writeSignatures(w, p.signatures);
}

export function readCheckpointProof(r: Reader): CheckpointProof {
  return {
    seq: r.varint('checkpoint seq'),
    headerHash: r.fixed(HASH_LENGTH, 'checkpoint hash'),
    signatures: readSignatures(r, 'checkpoint proof'),
  };
}

export function writePreparedCertificate(w: Writer, c: PreparedCertificate): void {
  w.varint(c.view).varint(c.seq).fixed(c.digest, HASH_LENGTH).fixed(c.prePrepareSignature, SIGNATURE_LENGTH);
  writeSignatures(w, c.prepares);
}

export function readPreparedCertificate(r: Reader): PreparedCertificate {
  return {
    view: r.varint('certificate view'),
    seq: r.varint('certificate seq'),
    digest: r.fixed(HASH_LENGTH, 'certificate digest'),
    prePrepareSignature: r.fixed(SIGNATURE_LENGTH, 'pre-prepare signature'),
    prepares: readSignatures(r, 'prepares'),
  };
}

export function writeHead(w: Writer, chainId: string, from: number): void {
  if (!CONSENSUS_CHAIN_ID_PATTERN.test(chainId)) throw invalidField('bad chain id');
  w.string(chainId).varint(from);
}

export function readHead(r: Reader): { chainId: string; from: number } {
  // The chain identity of the epoch (ADR 006, ADR 010): `chainId@genesisHash`, then `/epoch` from epoch 1.
  const chainId = r.string(CONSENSUS_CHAIN_ID_BYTES, 'chain id');
  if (!CONSENSUS_CHAIN_ID_PATTERN.test(chainId)) throw invalidField('bad chain id');
  return { chainId, from: r.varintIn(0, Limits.validators - 1, 'sender') };
}

function writeViewChangeBody(w: Writer, m: ViewChange): void {
  writeHead(w, m.chainId, m.from);
  w.varint(m.newView);
  writeCheckpointProof(w, m.checkpoint);
  if (m.prepared.length > MessageLimits.preparedCertificates) throw invalidField('too many certificates');
  w.varint(m.prepared.length);
  let last = -1;
  for (const c of m.prepared) {
    if (c.seq <= last) throw invalidField('prepared certificates must have increasing seq');
    last = c.seq;
    writePreparedCertificate(w, c);
  }
}

function readViewChangeBody(r: Reader): Omit<ViewChange, 'signature'> {
  const head = readHead(r);
  const newView = r.varint('new view');
  const checkpoint = readCheckpointProof(r);
  const count = r.varintIn(0, MessageLimits.preparedCertificates, 'certificate count');
  const prepared: PreparedCertificate[] = [];
  let last = -1;
  for (let i = 0; i < count; i++) {
    const c = readPreparedCertificate(r);
    if (c.seq <= last) {
      throw new CodecError(CodecErrorCode.nonCanonical, 'prepared certificates must have increasing seq');
    }
    last = c.seq;
    prepared.push(c);
  }
  return { type: 'viewChange', ...head, newView, checkpoint, prepared };
}

function writeSignedViewChange(w: Writer, m: ViewChange): void {
  writeViewChangeBody(w, m);
  w.fixed(m.signature, SIGNATURE_LENGTH);
}

function readSignedViewChange(r: Reader): ViewChange {
  const body = readViewChangeBody(r);
  return { ...body, signature: r.fixed(SIGNATURE_LENGTH, 'signature') };
}

function writeNewViewBody(w: Writer, m: NewView): void {
  writeHead(w, m.chainId, m.from);
  w.varint(m.view).varint(m.viewChanges.length);
  let last = -1;
  for (const vc of m.viewChanges) {
    if (vc.from <= last) throw invalidField('view changes must have increasing senders');
    last = vc.from;
    writeSignedViewChange(w, vc);
  }
  if (m.prePrepares.length > MessageLimits.reissued) throw invalidField('too many re-issued pre-prepares');
  w.varint(m.prePrepares.length);
  last = -1;
  for (const p of m.prePrepares) {
    if (p.seq <= last) throw invalidField('re-issued pre-prepares must have increasing seq');
    last = p.seq;
    w.varint(p.seq).fixed(p.digest, HASH_LENGTH).fixed(p.signature, SIGNATURE_LENGTH);
  }
}

function readNewViewBody(r: Reader): Omit<NewView, 'signature'> {
  const head = readHead(r);
  const view = r.varint('view');
  const vcCount = r.varintIn(0, Limits.validators, 'view change count');
  const viewChanges: ViewChange[] = [];
  let last = -1;
  for (let i = 0; i < vcCount; i++) {
    const vc = readSignedViewChange(r);
    if (vc.from <= last) {
      throw new CodecError(CodecErrorCode.nonCanonical, 'view changes must have increasing senders');
    }
    last = vc.from;
    viewChanges.push(vc);
  }
  const ppCount = r.varintIn(0, MessageLimits.reissued, 're-issued count');
  const prePrepares: ReissuedPrePrepare[] = [];
  last = -1;
  for (let i = 0; i < ppCount; i++) {
    const seq = r.varint('re-issued seq');
    if (seq <= last) {
      throw new CodecError(CodecErrorCode.nonCanonical, 're-issued pre-prepares must have increasing seq');
    }
    last = seq;
    prePrepares.push({
      seq,
      digest: r.fixed(HASH_LENGTH, 're-issued digest'),
      signature: r.fixed(SIGNATURE_LENGTH, 're-issued signature'),
    });
  }
  return { type: 'newView', ...head, view, viewChanges, prePrepares };
}

// ---- whole messages ---------------------------------------------------------------------------------------

function writeBody(w: Writer, m: ConsensusMessage): void {
  switch (m.type) {
    case 'prePrepare':
      writeHead(w, m.chainId, m.from);
      w.varint(m.view).varint(m.seq);
      writeBatch(w, m.batch);
      return;
    case 'prepare':
      writeHead(w, m.chainId, m.from);
      w.varint(m.view).varint(m.seq).fixed(m.digest, HASH_LENGTH);
      return;
    case 'commit':
      writeHead(w, m.chainId, m.from);
      w.varint(m.view).varint(m.seq).fixed(m.headerHash, HASH_LENGTH);
      return;
    case 'checkpoint':
      writeHead(w, m.chainId, m.from);
      w.varint(m.seq).fixed(m.headerHash, HASH_LENGTH);
      return;
    case 'viewChange':
      writeViewChangeBody(w, m);
      return;
    case 'newView':
      writeNewViewBody(w, m);
      return;
  }
}

export function encodeMessage(m: ConsensusMessage): Uint8Array {
  const w = new Writer(m.type === 'prePrepare' ? 128 + m.batch.txs.length * 600 : 256);
  w.u8(MESSAGE_VERSION).u8(MessageTypeCode[m.type]);
  writeBody(w, m);
  w.fixed(m.signature, SIGNATURE_LENGTH);
  const bytes = w.finish();
  if (bytes.length > MessageLimits.messageBytes) throw invalidField('message too large');
  return bytes;
}

function readMessage(r: Reader, suite: CryptoSuite): ConsensusMessage {
  expectVersion(r, MESSAGE_VERSION, 'message');
  const code = r.u8('message type');
  const type = typeByCode.get(code);
  if (type === undefined) throw new CodecError(CodecErrorCode.unknownType, `unknown message type ${code}`);
  let m: Unsigned<ConsensusMessage>;
  switch (type) {
    case 'prePrepare': {
      const head = readHead(r);
      const view = r.varint('view');
      const seq = r.varint('seq');
      const batch = readBatch(r, suite);
      m = { type, ...head, view, seq, batch, digest: batchDigest(batch, suite) };
      break;
    }
    case 'prepare': {
      const head = readHead(r);
      m = { type, ...head, view: r.varint('view'), seq: r.varint('seq'), digest: r.fixed(HASH_LENGTH) };
      break;
    }
    case 'commit': {
      const head = readHead(r);
      m = { type, ...head, view: r.varint('view'), seq: r.varint('seq'), headerHash: r.fixed(HASH_LENGTH) };
      break;
    }
    case 'checkpoint': {
      const head = readHead(r);
      m = { type, ...head, seq: r.varint('seq'), headerHash: r.fixed(HASH_LENGTH) };
      break;
    }
    case 'viewChange':
      m = readViewChangeBody(r);
      break;
    case 'newView':
      m = readNewViewBody(r);
      break;
  }
  return { ...m, signature: r.fixed(SIGNATURE_LENGTH, 'signature') } as ConsensusMessage;
}

/** Strict decode of untrusted bytes: size limit, version, type, canonical forms, no trailing bytes. */
export function decodeMessage(bytes: Uint8Array, suite: CryptoSuite = ED25519_SHA256): ConsensusMessage {
  return decodeExact(bytes, MessageLimits.messageBytes, 'consensus message', (r) => readMessage(r, suite));
}

// ---- making signed messages -------------------------------------------------------------------------------

/** Signs `m` (all fields but the signature) with `sign`, which receives the domain and body. */
export function withSignature<M extends ConsensusMessage>(
  m: Omit<M, 'signature'>,
  sign: (domain: Domain, body: Uint8Array) => Uint8Array,
): M {
  const unsigned = { ...m, signature: new Uint8Array(SIGNATURE_LENGTH) } as M;
  const { domain, body } = signedPart(unsigned);
  return { ...unsigned, signature: sign(domain, body) };
}
