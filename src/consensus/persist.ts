/**
 * What the core persists, as key/value records (docs/protocol.md, "Persistence"). The core emits `persist`
 * outputs holding put/delete operations; the driver applies each output atomically and durably (one LevelDB
 * batch with sync) before it sends anything the same step produced. `readPersisted` rebuilds the state a
 * restarted replica needs, so it can never contradict what it signed before the crash.
 *
 * Records (seq keys are zero-padded so they sort):
 * - `view`             current view and status;
 * - `guard`            the double-sign guard's view high-water marks;
 * - `stable`           the stable checkpoint and its proof;
 * - `vc`               this replica's VIEW-CHANGE for the view it is moving to (re-sent after a restart);
 * - `nv`               the NEW-VIEW that started the current view (sent to replicas still asking for it);
 * - `vote/<seq>`       what this replica signed at seq in the highest view it signed there, and its checkpoint;
 * - `entry/<seq>`      the accepted PRE-PREPARE (view, digest, primary's signature) and the prepared certificate;
 * - `batch/<seq>/<digest>` batch bodies of live entries;
 * - `exec/<seq>`       header hash (and batch digest) of blocks executed inside the window, so a restarted
 *                      replica can COMMIT them again when a new view re-issues them. Only records at or below
 *                      the ledger head count: a record may be written just before a crash prevents the commit.
 */
import { type Batch, batchDigest } from '../core/batch.ts';
import { toHex } from '../core/bytes.ts';
import { decodeExact, expectVersion, type Reader, Writer } from '../core/codec.ts';
import { HASH_LENGTH, SIGNATURE_LENGTH } from '../core/crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { ConsensusError, ConsensusErrorCode } from './errors.ts';
import {
  type CheckpointProof,
  decodeBatch,
  decodeMessage,
  encodeBatch,
  encodeMessage,
  type NewView,
  type PreparedCertificate,
  readCheckpointProof,
  readPreparedCertificate,
  type ViewChange,
  writeCheckpointProof,
  writePreparedCertificate,
} from './messages.ts';

export type PersistOp = { op: 'put'; key: string; value: Uint8Array } | { op: 'del'; key: string };

const RECORD_VERSION = 1;
const RECORD_LIMIT = 64 * 1024 * 1024;

export const RecordKey = {
  view: 'view',
  guard: 'guard',
  stable: 'stable',
  viewChange: 'vc',
  newView: 'nv',
  vote: (seq: number) => `vote/${pad(seq)}`,
  entry: (seq: number) => `entry/${pad(seq)}`,
  batch: (seq: number, digestHex: string) => `batch/${pad(seq)}/${digestHex}`,
  executed: (seq: number) => `exec/${pad(seq)}`,
} as const;

function pad(seq: number): string {
  return seq.toString().padStart(16, '0');
}

export interface ViewRecord {
  view: number;
  /** The replica's ReplicaStatus (types.ts), spelt out: types.ts imports PersistOp from here. */
  status: 'normal' | 'viewChange';
}

export interface GuardRecord {
  /** Highest view in which a PRE-PREPARE, PREPARE or COMMIT was signed. */
  voteView: number;
  /** Highest view a VIEW-CHANGE was signed for (0: none). */
  viewChangeView: number;
  /** Highest view a NEW-VIEW was signed for (0: none). */
  newViewView: number;
}

/** What was signed at one seq, in the highest view anything was signed there. Values are hashes. */
export interface VoteRecord {
  seq: number;
  view: number;
  prePrepare: Uint8Array | undefined;
  prepare: Uint8Array | undefined;
  commit: Uint8Array | undefined;
  /** The CHECKPOINT hash signed at seq (view-independent). */
  checkpoint: Uint8Array | undefined;
}

export interface ExecutedRecord {
  seq: number;
  headerHash: Uint8Array;
  /** Digest of the batch, when this replica executed it itself (not by state transfer). */
  digest: Uint8Array | undefined;
}

export interface EntryRecord {
  seq: number;
  view: number;
  /** The accepted PRE-PREPARE in `view`: digest and the primary's signature. */
  accepted: { digest: Uint8Array; signature: Uint8Array } | undefined;
  preparedCert: PreparedCertificate | undefined;
}

function record(write: (w: Writer) => void): Uint8Array {
  const w = new Writer(128);
  w.u8(RECORD_VERSION);
  write(w);
  return w.finish();
}

function parse<T>(bytes: Uint8Array, what: string, read: (r: Reader) => T): T {
  return decodeExact(bytes, RECORD_LIMIT, what, (r) => {
    expectVersion(r, RECORD_VERSION, what);
    return read(r);
  });
}

const optHash = (w: Writer, v: Uint8Array | undefined) => w.optional(v, (w2, h) => w2.fixed(h, HASH_LENGTH));
const readOptHash = (r: Reader) => r.optional((r2) => r2.fixed(HASH_LENGTH));

export function encodeViewRecord(v: ViewRecord): Uint8Array {
  return record((w) => w.varint(v.view).bool(v.status === 'viewChange'));
}

export function encodeGuardRecord(g: GuardRecord): Uint8Array {
  return record((w) => w.varint(g.voteView).varint(g.viewChangeView).varint(g.newViewView));
}

export function encodeStableRecord(p: CheckpointProof): Uint8Array {
  return record((w) => writeCheckpointProof(w, p));
}

export function encodeVoteRecord(v: VoteRecord): Uint8Array {
  return record((w) => {
    w.varint(v.seq).varint(v.view);
    optHash(w, v.prePrepare);
    optHash(w, v.prepare);
    optHash(w, v.commit);
    optHash(w, v.checkpoint);
  });
}

export function encodeExecutedRecord(e: ExecutedRecord): Uint8Array {
  return record((w) => {
    w.varint(e.seq).fixed(e.headerHash, HASH_LENGTH);
    optHash(w, e.digest);
  });
}

export function encodeEntryRecord(e: EntryRecord): Uint8Array {
  return record((w) => {
    w.varint(e.seq).varint(e.view);
    w.optional(e.accepted, (w2, a) => w2.fixed(a.digest, HASH_LENGTH).fixed(a.signature, SIGNATURE_LENGTH));
    w.optional(e.preparedCert, (w2, c) => writePreparedCertificate(w2, c));
  });
}

/** Everything a restarted replica reads back. */
export interface PersistedState {
  view: ViewRecord | undefined;
  guard: GuardRecord | undefined;
  stable: CheckpointProof | undefined;
  viewChange: ViewChange | undefined;
  newView: NewView | undefined;
  votes: Map<number, VoteRecord>;
  entries: Map<number, EntryRecord>;
  executed: Map<number, ExecutedRecord>;
  /** seq → digest hex → body. */
  batches: Map<number, Map<string, Batch>>;
}

function corrupt(key: string, err: unknown): ConsensusError {
  return new ConsensusError(ConsensusErrorCode.corruptState, `persisted record ${key} is unreadable`, {
    cause: err instanceof Error ? err.message : String(err),
  });
}

/** Decodes a store's records. Throws ConsensusError (corruptState) for anything it cannot read. */
/** `suite` is the chain's (ADR 014): it hashes the txs of stored batches and their digests. */
export function readPersisted(
  records: Iterable<readonly [string, Uint8Array]>,
  suite: CryptoSuite = ED25519_SHA256,
): PersistedState {
  const out: PersistedState = {
    view: undefined,
    guard: undefined,
    stable: undefined,
    viewChange: undefined,
    newView: undefined,
    votes: new Map(),
    entries: new Map(),
    executed: new Map(),
    batches: new Map(),
  };
  for (const [key, value] of records) {
    try {
      readRecord(out, key, value, suite);
    } catch (err) {
      if (err instanceof ConsensusError) throw err;
      throw corrupt(key, err);
    }
  }
  return out;
}

function readRecord(out: PersistedState, key: string, value: Uint8Array, suite: CryptoSuite): void {
  if (key === RecordKey.view) {
    out.view = parse(value, 'view record', (r) => ({
      view: r.varint(),
      status: r.bool() ? ('viewChange' as const) : ('normal' as const),
    }));
  } else if (key === RecordKey.guard) {
    out.guard = parse(value, 'guard record', (r) => ({
      voteView: r.varint(),
      viewChangeView: r.varint(),
      newViewView: r.varint(),
    }));
  } else if (key === RecordKey.stable) {
    out.stable = parse(value, 'stable record', readCheckpointProof);
  } else if (key === RecordKey.viewChange) {
    const m = decodeMessage(value, suite);
    if (m.type !== 'viewChange') throw corrupt(key, 'not a VIEW-CHANGE');
    out.viewChange = m;
  } else if (key === RecordKey.newView) {
    const m = decodeMessage(value, suite);
    if (m.type !== 'newView') throw corrupt(key, 'not a NEW-VIEW');
    out.newView = m;
  } else if (key.startsWith('vote/')) {
    const v = parse(value, 'vote record', (r) => ({
      seq: r.varint(),
      view: r.varint(),
      prePrepare: readOptHash(r),
      prepare: readOptHash(r),
      commit: readOptHash(r),
      checkpoint: readOptHash(r),
    }));
    if (RecordKey.vote(v.seq) !== key) throw corrupt(key, 'key does not match seq');
    out.votes.set(v.seq, v);
  } else if (key.startsWith('entry/')) {
    const e = parse(value, 'entry record', (r) => ({
      seq: r.varint(),
      view: r.varint(),
      accepted: r.optional((r2) => ({
        digest: r2.fixed(HASH_LENGTH),
        signature: r2.fixed(SIGNATURE_LENGTH),
      })),
      preparedCert: r.optional(readPreparedCertificate),
    }));
    if (RecordKey.entry(e.seq) !== key) throw corrupt(key, 'key does not match seq');
    out.entries.set(e.seq, e);
  } else if (key.startsWith('exec/')) {
    const e = parse(value, 'executed record', (r) => ({
      seq: r.varint(),
      headerHash: r.fixed(HASH_LENGTH),
      digest: readOptHash(r),
    }));
    if (RecordKey.executed(e.seq) !== key) throw corrupt(key, 'key does not match seq');
    out.executed.set(e.seq, e);
  } else if (key.startsWith('batch/')) {
    const [, seqText, digestHex] = key.split('/');
    const seq = Number(seqText);
    const batch = decodeBatch(value, suite);
    if (!Number.isSafeInteger(seq) || digestHex !== toHex(batchDigest(batch, suite))) {
      throw corrupt(key, 'key does not match the batch');
    }
    let bySeq = out.batches.get(seq);
    if (bySeq === undefined) {
      bySeq = new Map();
      out.batches.set(seq, bySeq);
    }
    bySeq.set(digestHex, batch);
  } else {
    throw corrupt(key, 'unknown record');
  }
}

export function putBatch(seq: number, batch: Batch, digest: Uint8Array): PersistOp {
  return { op: 'put', key: RecordKey.batch(seq, toHex(digest)), value: encodeBatch(batch) };
}

export function putViewChange(vc: ViewChange): PersistOp {
  return { op: 'put', key: RecordKey.viewChange, value: encodeMessage(vc) };
}

export function putNewView(nv: NewView): PersistOp {
  return { op: 'put', key: RecordKey.newView, value: encodeMessage(nv) };
}
