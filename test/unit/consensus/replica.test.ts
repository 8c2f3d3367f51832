import { describe, expect, it } from 'vitest';
import type { CoreState } from '../../../src/consensus/core-state.ts';
import { DropReason } from '../../../src/consensus/errors.ts';
import { type NewView, type Prepare, withSignature } from '../../../src/consensus/messages.ts';
import { RecordKey, readPersisted } from '../../../src/consensus/persist.ts';
import { Replica } from '../../../src/consensus/replica.ts';
import type { Output } from '../../../src/consensus/types.ts';
import { batchDigest } from '../../../src/core/batch.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { InvariantError } from '../../../src/core/errors.ts';
import { simVerify } from '../../sim/crypto.ts';
import { SIM_GENESIS_HASH } from '../../sim/ledger.ts';
import {
  batch,
  CHAIN,
  checkpoint,
  commit,
  commitCert,
  commitThrough,
  drops,
  find,
  hashFor,
  msg,
  newView,
  params,
  pp,
  prepare,
  preparedCert,
  proof,
  replica,
  sent,
  set,
  signers,
  T0,
  tx,
  viewChange,
} from './helpers.ts';

/** Puts a backup (validator 2 by default; not the primary of view 1) into a view change to view 1. */
function inViewChange(self = 2): Replica {
  const r = replica(self);
  r.step({ now: T0, type: 'txArrived', tx: tx(99) });
  const out = r.step({ now: T0 + 1000, type: 'timeout', kind: 'request', view: 0 });
  expect(find(out, 'broadcast')?.message.type).toBe('viewChange');
  return r;
}

function applyPersist(store: Map<string, Uint8Array>, outputs: Output[]): void {
  for (const o of outputs) {
    if (o.type !== 'persist') continue;
    for (const op of o.ops) {
      if (op.op === 'put') store.set(op.key, op.value);
      else store.delete(op.key);
    }
  }
}

describe('Replica: one test per drop reason', () => {
  const d = batchDigest(batch([tx(1)]));

  it.each([
    [
      DropReason.wrongChain,
      () =>
        withSignature<Prepare>({ ...prepare(2, 0, 1, d), chainId: 'other-chain' }, (x, b) =>
          signers[2]!.sign(x, b),
        ),
    ],
    [DropReason.unknownSender, () => ({ ...prepare(2, 0, 1, d), from: 7 })],
    [DropReason.fromSelf, () => prepare(1, 0, 1, d)],
    [DropReason.badSignature, () => ({ ...prepare(2, 0, 1, d), signature: new Uint8Array(64) })],
    [DropReason.notPrimary, () => pp(1, batch([tx(1)], 0, 2), 0, 2)],
    [DropReason.primaryVote, () => prepare(0, 0, 1, d)],
    [DropReason.futureView, () => prepare(2, 5, 1, d)],
    // Beyond the window and the checkpoint interval above it (window (0, 4], K = 2).
    [DropReason.aboveWindow, () => prepare(2, 0, 7, d)],
    [DropReason.badBatch, () => pp(1, batch([tx(1)], 0, 0), 0, 0)],
    [DropReason.batchTooLarge, () => pp(1, batch([tx(1), tx(2), tx(3), tx(4)]))],
    [DropReason.duplicateTx, () => pp(1, batch([tx(1), tx(1)]))],
    [DropReason.clockSkew, () => pp(1, batch([tx(1)], 0, 0, T0 + 5000))],
    [DropReason.badCheckpoint, () => checkpoint(2, 3, hashFor(3))],
  ] as const)('%s', (reason, make) => {
    const r = replica(1);
    // notPrimary uses a batch claimed by validator 2; badBatch an empty batch from the real primary.
    const message = reason === DropReason.badBatch ? pp(1, batch([], 0, 0)) : make();
    expect(drops(r.step(msg(message)))).toEqual([reason]);
  });

  it('outsideWindow: a vote at or below the stable checkpoint', () => {
    const r = replica(1);
    r.step({ now: T0, type: 'peerProgress', checkpoint: proof(2, hashFor(2)) });
    expect(drops(r.step(msg(prepare(2, 0, 2, d))))).toEqual([DropReason.outsideWindow]);
  });

  it('staleView: a vote for a view this replica left', () => {
    const r = inViewChange();
    expect(drops(r.step(msg(prepare(3, 0, 1, d))))).toEqual([DropReason.staleView]);
  });

  it('duplicate and equivocation: the same PREPARE again, then a different one from the same sender', () => {
    const r = replica(1);
    expect(drops(r.step(msg(prepare(2, 0, 1, d))))).toEqual([]);
    expect(drops(r.step(msg(prepare(2, 0, 1, d))))).toEqual([DropReason.duplicate]);
    expect(drops(r.step(msg(prepare(2, 0, 1, hashFor(1)))))).toEqual([DropReason.equivocation]);
  });

  it('equivocation: a second PRE-PREPARE for the same (view, seq)', () => {
    const r = replica(1);
    r.step(msg(pp(1, batch([tx(1)]))));
    expect(drops(r.step(msg(pp(1, batch([tx(2)])))))).toEqual([DropReason.equivocation]);
  });

  it('txInFlight: a batch repeating a tx of another live entry', () => {
    const r = replica(1);
    r.step(msg(pp(1, batch([tx(1)]))));
    expect(drops(r.step(msg(pp(2, batch([tx(1), tx(2)])))))).toEqual([DropReason.txInFlight]);
  });

  it('executed: a fresh PRE-PREPARE for a seq already executed', () => {
    const r = replica(1);
    commitThrough(r, 1, batch([tx(1)]));
    expect(r.status().lastExecuted).toBe(1);
    expect(drops(r.step(msg(pp(1, batch([tx(2)])))))).toEqual([DropReason.executed]);
  });

  it('staleCheckpoint: a CHECKPOINT at or below the stable checkpoint', () => {
    const r = replica(1);
    for (const v of [0, 2, 3]) r.step(msg(checkpoint(v, 2, hashFor(2))));
    expect(r.status().stableSeq).toBe(2);
    expect(drops(r.step(msg(checkpoint(0, 2, hashFor(2)))))).toEqual([DropReason.staleCheckpoint]);
  });

  it('conflictingCheckpoint: a quorum checkpoint contradicting an executed block is not adopted', () => {
    const r = replica(1);
    commitThrough(r, 1, batch([tx(1)]));
    const out = commitThrough(r, 2, batch([tx(2)]));
    expect(find(out, 'commitBlock')?.seq).toBe(2);
    const reasons = [0, 2, 3].flatMap((v) => drops(r.step(msg(checkpoint(v, 2, hashFor(2, 'x'))))));
    expect(reasons).toContain(DropReason.conflictingCheckpoint);
    expect(r.status().stableSeq).toBe(0);
  });

  it('badViewChange: a VIEW-CHANGE whose checkpoint proof lacks a quorum', () => {
    const r = replica(1);
    const bad = viewChange(2, 1, {
      ...proof(2, hashFor(2)),
      signatures: proof(2, hashFor(2)).signatures.slice(0, 2),
    });
    expect(drops(r.step(msg(bad)))).toEqual([DropReason.badViewChange]);
  });

  it('badViewChange: a prepared certificate with too few PREPAREs', () => {
    const r = replica(1);
    const cert = { ...preparedCert(0, 1, d), prepares: preparedCert(0, 1, d).prepares.slice(0, 1) };
    expect(drops(r.step(msg(viewChange(2, 1, undefined, [cert]))))).toEqual([DropReason.badViewChange]);
  });

  it('badNewView: a NEW-VIEW with fewer VIEW-CHANGEs than a quorum', () => {
    const r = inViewChange();
    const nv = newView(1, [viewChange(0, 1), viewChange(1, 1)]);
    expect(drops(r.step(msg(nv)))).toEqual([DropReason.badNewView]);
  });

  it('newViewMismatch: a NEW-VIEW that drops a prepared request', () => {
    const r = inViewChange();
    const vcs = [viewChange(0, 1, undefined, [preparedCert(0, 1, d)]), viewChange(1, 1), viewChange(3, 1)];
    const honest = newView(1, vcs);
    const forged = newView(1, [viewChange(0, 1), viewChange(1, 1), viewChange(3, 1)]);
    // Same VIEW-CHANGEs as the honest one, but the re-issued list computed without the certificate.
    const tampered = withSignature<NewView>({ ...honest, prePrepares: forged.prePrepares }, (x, b) =>
      signers[1]!.sign(x, b),
    );
    expect(drops(r.step(msg(tampered)))).toEqual([DropReason.newViewMismatch]);
    expect(drops(r.step(msg(honest)))).toEqual([]);
    expect(r.status()).toMatchObject({ view: 1, status: 'normal' });
  });

  it('conflictsCommitted: a NEW-VIEW re-issuing an executed seq with another batch', () => {
    const r = replica(2);
    commitThrough(r, 1, batch([tx(1)]));
    r.step({ now: T0, type: 'txArrived', tx: tx(50) });
    r.step({ now: T0 + 1000, type: 'timeout', kind: 'request', view: 0 });
    const other = batchDigest(batch([tx(7)]));
    const vcs = [
      viewChange(0, 1, undefined, [preparedCert(0, 1, other)]),
      viewChange(1, 1),
      viewChange(3, 1),
    ];
    expect(drops(r.step(msg(newView(1, vcs))))).toEqual([DropReason.conflictsCommitted]);
  });

  it('staleTimer: a timer for another view', () => {
    const r = replica(1);
    expect(drops(r.step({ now: T0, type: 'timeout', kind: 'request', view: 3 }))).toEqual([
      DropReason.staleTimer,
    ]);
  });

  it('staleResult: a built block nobody asked for, a fetched batch nobody needs, an old transfer', () => {
    const r = replica(1);
    expect(drops(r.step({ now: T0, type: 'blockBuilt', seq: 1, digest: d, headerHash: hashFor(1) }))).toEqual(
      [DropReason.staleResult],
    );
    expect(drops(r.step({ now: T0, type: 'batchFetched', batch: batch([tx(1)]) }))).toEqual([
      DropReason.staleResult,
    ]);
    expect(
      drops(r.step({ now: T0, type: 'stateTransferred', seq: 0, headerHash: SIM_GENESIS_HASH, blocks: [] })),
    ).toEqual([DropReason.staleResult]);
  });

  it('badCertificate: a peer head whose commit certificate lacks a quorum', () => {
    const r = replica(1);
    const head = commitCert(9, hashFor(9), 0, [0, 2]);
    expect(drops(r.step({ now: T0, type: 'peerProgress', head }))).toEqual([DropReason.badCertificate]);
    const forged = { ...commitCert(9, hashFor(9)), headerHash: hashFor(9, 'x') };
    expect(drops(r.step({ now: T0, type: 'peerProgress', head: forged }))).toEqual([
      DropReason.badCertificate,
    ]);
  });

  it('txKnown and mempoolFull', () => {
    const r = replica(1, { maxPendingTxs: 1 });
    expect(drops(r.step({ now: T0, type: 'txArrived', tx: tx(1) }))).toEqual([]);
    expect(drops(r.step({ now: T0, type: 'txArrived', tx: tx(1) }))).toEqual([DropReason.txKnown]);
    expect(drops(r.step({ now: T0, type: 'txArrived', tx: tx(2) }))).toEqual([DropReason.mempoolFull]);
  });

  it('covers every reason the core can report (the driver-only ones are tested with the driver)', () => {
    const driverOnly = [DropReason.malformed, DropReason.invalidTx, DropReason.overloaded];
    const tested = [
      'wrongChain',
      'unknownSender',
      'fromSelf',
      'badSignature',
      'notPrimary',
      'primaryVote',
      'staleView',
      'futureView',
      'outsideWindow',
      'aboveWindow',
      'executed',
      'duplicate',
      'equivocation',
      'badBatch',
      'batchTooLarge',
      'duplicateTx',
      'txInFlight',
      'clockSkew',
      'badCheckpoint',
      'staleCheckpoint',
      'conflictingCheckpoint',
      'badCertificate',
      'badViewChange',
      'badNewView',
      'newViewMismatch',
      'conflictsCommitted',
      'staleTimer',
      'staleResult',
      'txKnown',
      'mempoolFull',
    ];
    expect(new Set([...tested, ...driverOnly])).toEqual(new Set(Object.values(DropReason)));
  });
});

describe('Replica: normal case', () => {
  it('a backup prepares, builds, commits, and emits the commit certificate sorted by validator', () => {
    const r = replica(1);
    const b = batch([tx(1), tx(2)]);
    const dg = batchDigest(b);
    const out1 = r.step(msg(pp(1, b)));
    expect(out1[0]?.type).toBe('persist');
    expect(find(out1, 'broadcast')?.message).toMatchObject({ type: 'prepare', view: 0, seq: 1 });
    const out2 = r.step(msg(prepare(3, 0, 1, dg)));
    expect(find(out2, 'buildBlock')).toMatchObject({ seq: 1, batch: b });
    const out3 = r.step({ now: T0, type: 'blockBuilt', seq: 1, digest: dg, headerHash: hashFor(1) });
    expect(find(out3, 'broadcast')?.message).toMatchObject({ type: 'commit', seq: 1 });
    expect(find(r.step(msg(commit(3, 0, 1, hashFor(1)))), 'commitBlock')).toBeUndefined();
    const out4 = r.step(msg(commit(0, 0, 1, hashFor(1))));
    const cb = find(out4, 'commitBlock')!;
    expect(cb.certificate.signatures.map((s) => s.validator)).toEqual([0, 1, 3]);
    expect(cb.certificate).toMatchObject({ height: 1, view: 0 });
    expect(r.status().lastExecuted).toBe(1);
  });

  it('persists each vote before (in the same step as) sending it', () => {
    const r = replica(1);
    const out = r.step(msg(pp(1, batch([tx(1)]))));
    expect(out.map((o) => o.type)).toEqual(['persist', 'broadcast']);
    const store = new Map<string, Uint8Array>();
    applyPersist(store, out);
    const vote = readPersisted([[RecordKey.vote(1), store.get(RecordKey.vote(1))!]]).votes.get(1)!;
    expect(vote.prepare).toEqual(batchDigest(batch([tx(1)])));
  });

  it('commits in order: a prepared seq 2 waits for seq 1', () => {
    const r = replica(1);
    const b2 = batch([tx(2)]);
    r.step(msg(pp(2, b2)));
    const out = r.step(msg(prepare(3, 0, 2, batchDigest(b2))));
    expect(find(out, 'buildBlock')).toBeUndefined();
    const out1 = commitThrough(r, 1, batch([tx(1)]));
    expect(out1.filter((o) => o.type === 'buildBlock').map((o) => (o as { seq: number }).seq)).toEqual([
      1, 2,
    ]);
  });

  it('the primary proposes a full batch at once and a partial one when the batch timer fires', () => {
    const r = replica(0);
    const first = r.step({ now: T0, type: 'txArrived', tx: tx(1) });
    expect(sent(first)).toEqual([]);
    expect(
      first.filter((o) => o.type === 'setTimer').map((o) => o.type === 'setTimer' && [o.kind, o.ms]),
    ).toEqual([
      ['request', params.requestTimeoutMs],
      ['batch', params.maxBatchWaitMs],
    ]);
    r.step({ now: T0, type: 'txArrived', tx: tx(2) });
    const full = r.step({ now: T0, type: 'txArrived', tx: tx(3) });
    expect(find(full, 'broadcast')?.message).toMatchObject({ type: 'prePrepare', seq: 1 });
    // The batch timer armed for tx 1 is still pending: it now covers tx 4.
    expect(sent(r.step({ now: T0, type: 'txArrived', tx: tx(4) }))).toEqual([]);
    const partial = r.step({ now: T0 + 10, type: 'timeout', kind: 'batch', view: 0 });
    const m = find(partial, 'broadcast')?.message;
    expect(m).toMatchObject({ type: 'prePrepare', seq: 2 });
    expect(m?.type === 'prePrepare' && m.batch.txs.map((t) => t.hashHex)).toEqual([tx(4).hashHex]);
  });

  it('a primary with maxBatchesInFlight batches executing holds a partial batch back until one executes', () => {
    const r = replica(0, { maxBatchesInFlight: 1 });
    r.step({ now: T0, type: 'txArrived', tx: tx(1) });
    const first = find(r.step({ now: T0 + 10, type: 'timeout', kind: 'batch', view: 0 }), 'broadcast');
    expect(first?.message).toMatchObject({ type: 'prePrepare', seq: 1 });
    // Seq 1 is executing: the batch timer for tx 2 fires, the batch waits, and takes in tx 3 meanwhile.
    r.step({ now: T0 + 11, type: 'txArrived', tx: tx(2) });
    expect(sent(r.step({ now: T0 + 21, type: 'timeout', kind: 'batch', view: 0 }))).toEqual([]);
    expect(sent(r.step({ now: T0 + 22, type: 'txArrived', tx: tx(3) }))).toEqual([]);
    const m = first?.message;
    if (m?.type !== 'prePrepare') throw new Error('expected a PRE-PREPARE');
    const second = commitThrough(r, 1, m.batch)
      .map((o) => (o.type === 'broadcast' ? o.message : undefined))
      .find((x) => x?.type === 'prePrepare');
    expect(second).toMatchObject({ type: 'prePrepare', seq: 2 });
    expect(second?.type === 'prePrepare' && second.batch.txs.map((t) => t.hashHex)).toEqual([
      tx(2).hashHex,
      tx(3).hashHex,
    ]);
    // A full batch never waits.
    r.step({ now: T0 + 30, type: 'txArrived', tx: tx(4) });
    r.step({ now: T0 + 30, type: 'txArrived', tx: tx(5) });
    const full = r.step({ now: T0 + 30, type: 'txArrived', tx: tx(6) });
    expect(find(full, 'broadcast')?.message).toMatchObject({ type: 'prePrepare', seq: 3 });
    expect(() => replica(0, { maxBatchesInFlight: 0 })).toThrow(/maxBatchesInFlight/);
  });

  it('a stable checkpoint prunes the log and moves the watermarks', () => {
    const r = replica(1);
    commitThrough(r, 1, batch([tx(1)]));
    const out = commitThrough(r, 2, batch([tx(2)]));
    expect(sent(out).some((o) => 'message' in o && o.message.type === 'checkpoint')).toBe(true);
    r.step(msg(checkpoint(0, 2, hashFor(2))));
    r.step(msg(checkpoint(2, 2, hashFor(2))));
    expect(r.status()).toMatchObject({ stableSeq: 2, lowWatermark: 2, highWatermark: 6 });
    expect(r.sizes().logEntries).toBe(0);
  });

  it('a replica behind a stable checkpoint asks for state transfer and resumes after it', () => {
    const r = replica(1);
    let out: Output[] = [];
    for (const v of [0, 2, 3]) out = r.step(msg(checkpoint(v, 4, hashFor(4))));
    expect(find(out, 'stateTransfer')).toMatchObject({ targetSeq: 4 });
    r.step({ now: T0, type: 'stateTransferred', seq: 4, headerHash: hashFor(4), blocks: [] });
    expect(r.status()).toMatchObject({ lastExecuted: 4, transferTarget: undefined });
  });

  it('f+1 matching checkpoints above the window trigger a transfer at once', () => {
    const r = replica(1);
    r.step(msg(checkpoint(0, 8, hashFor(8))));
    const out = r.step(msg(checkpoint(2, 8, hashFor(8))));
    expect(find(out, 'stateTransfer')).toMatchObject({ targetSeq: 8 });
  });

  it('works with a single validator', () => {
    const { signers: one } = { signers: [signers[0]!] };
    const r = Replica.create(
      {
        chainId: CHAIN,
        validators: { validators: [set.validators[0]!] },
        self: 0,
        params,
        genesisHash: SIM_GENESIS_HASH,
        signer: one[0]!,
        verify: simVerify,
      },
      { height: 0, hash: SIM_GENESIS_HASH, time: T0 },
    );
    r.step({ now: T0, type: 'start' });
    for (const k of [1, 2]) r.step({ now: T0, type: 'txArrived', tx: tx(k) });
    const out = r.step({ now: T0 + 10, type: 'timeout', kind: 'batch', view: 0 });
    const build = find(out, 'buildBlock')!;
    const done = r.step({
      now: T0 + 10,
      type: 'blockBuilt',
      seq: 1,
      digest: build.digest,
      headerHash: hashFor(1),
    });
    expect(find(done, 'commitBlock')?.certificate.signatures.map((s) => s.validator)).toEqual([0]);
  });
});

describe('Replica: catching up from a peer status (idle chain)', () => {
  it('a certified head inside the window is a catch-up target after catchUpDelayMs', () => {
    const r = replica(1, { catchUpDelayMs: 300 });
    const out = r.step({ now: T0, type: 'peerProgress', head: commitCert(3, hashFor(3)) });
    expect(find(out, 'stateTransfer')).toBeUndefined();
    expect(find(out, 'setTimer')).toMatchObject({ kind: 'catchUp', ms: 300 });
    const fired = r.step({ now: T0 + 300, type: 'timeout', kind: 'catchUp', view: 0 });
    expect(find(fired, 'stateTransfer')).toEqual({
      type: 'stateTransfer',
      targetSeq: 3,
      headerHash: hashFor(3),
    });
  });

  it('a head certified in a later view, even below its own head, makes it ask for that view', () => {
    const r = replica(1);
    commitThrough(r, 1, batch([tx(1)]));
    expect(r.status()).toMatchObject({ view: 0, lastExecuted: 1 });
    // Block 1 as the others certified it after a view change this replica missed.
    const out = r.step({ now: T0, type: 'peerProgress', head: commitCert(1, hashFor(1), 2) });
    expect(find(out, 'broadcast')?.message).toMatchObject({ type: 'viewChange', newView: 2 });
    expect(r.status()).toMatchObject({ view: 2, status: 'viewChange' });
    // A forged one changes nothing.
    const r2 = replica(1);
    const forged = commitCert(1, hashFor(1), 2);
    forged.signatures[0] = { ...forged.signatures[0]!, signature: new Uint8Array(64) };
    expect(drops(r2.step({ now: T0, type: 'peerProgress', head: forged }))).toEqual([
      DropReason.badCertificate,
    ]);
    expect(r2.status()).toMatchObject({ view: 0, status: 'normal' });
    // Nor one at a height it already executed (nothing else checks the certificate then).
    const r3 = replica(1);
    commitThrough(r3, 1, batch([tx(1)]));
    expect(drops(r3.step({ now: T0, type: 'peerProgress', head: forged }))).toEqual([
      DropReason.badCertificate,
    ]);
    expect(r3.status()).toMatchObject({ view: 0, status: 'normal' });
  });

  it('a certified head beyond the window is transferred to at once', () => {
    const r = replica(1);
    const out = r.step({ now: T0, type: 'peerProgress', head: commitCert(9, hashFor(9)) });
    expect(find(out, 'stateTransfer')).toMatchObject({ targetSeq: 9 });
    r.step({ now: T0, type: 'stateTransferred', seq: 9, headerHash: hashFor(9), blocks: [] });
    expect(r.status()).toMatchObject({ lastExecuted: 9, transferTarget: undefined });
  });

  it("adopts a peer's stable checkpoint proof, moving its window before it transfers up to it", () => {
    const r = replica(1);
    const out = r.step({ now: T0, type: 'peerProgress', checkpoint: proof(8, hashFor(8)) });
    expect(r.status()).toMatchObject({ stableSeq: 8, lowWatermark: 8, highWatermark: 12 });
    expect(find(out, 'persist')?.ops.some((o) => o.key === RecordKey.stable)).toBe(true);
    expect(find(out, 'stateTransfer')).toMatchObject({ targetSeq: 8 });
    // A proof without a quorum is refused and changes nothing.
    const weak = replica(1);
    const d = drops(weak.step({ now: T0, type: 'peerProgress', checkpoint: proof(8, hashFor(8), [0, 2]) }));
    expect(d).toEqual([DropReason.badCheckpoint]);
    expect(weak.status().stableSeq).toBe(0);
  });

  it('a checkpoint and a head together: one transfer, straight to the head', () => {
    const r = replica(1);
    const out = r.step({
      now: T0,
      type: 'peerProgress',
      checkpoint: proof(8, hashFor(8)),
      head: commitCert(10, hashFor(10)),
    });
    expect(out.filter((o) => o.type === 'stateTransfer').map((o) => 'targetSeq' in o && o.targetSeq)).toEqual(
      [8, 10],
    );
    expect(r.status().transferTarget).toBe(10);
  });

  it('a transfer that stalls releases consensus: the replica builds and commits the next block itself', () => {
    const r = replica(1, { catchUpDelayMs: 300 });
    const b = batch([tx(1)]);
    const d = batchDigest(b);
    r.step(msg(pp(1, b)));
    for (const v of [2, 3]) r.step(msg(prepare(v, 0, 1, d)));
    r.step({ now: T0, type: 'blockBuilt', seq: 1, digest: d, headerHash: hashFor(1) });
    // A certified head beyond the window: a transfer at once, and the core commits nothing meanwhile.
    expect(
      find(r.step({ now: T0, type: 'peerProgress', head: commitCert(9, hashFor(9)) }), 'stateTransfer'),
    ).toMatchObject({ targetSeq: 9 });
    const held = [0, 2].flatMap((v) => r.step(msg(commit(v, 0, 1, hashFor(1)))));
    expect(find(held, 'commitBlock')).toBeUndefined();
    // No peer could serve block 1 (the only one holding it lied): the transfer stands down at the ledger head.
    const out = r.step({ now: T0, type: 'transferStalled', seq: 0 });
    expect(r.status().transferTarget).toBeUndefined();
    // The driver dropped the block it had built when the transfer was asked for: it is built again.
    expect(find(out, 'buildBlock')).toMatchObject({ seq: 1 });
    const built = r.step({ now: T0, type: 'blockBuilt', seq: 1, digest: d, headerHash: hashFor(1) });
    expect(find(built, 'commitBlock')).toMatchObject({ seq: 1 });
    expect(r.status().lastExecuted).toBe(1);
    // Still behind after catchUpDelayMs: it asks again.
    const fired = r.step({ now: T0 + 300, type: 'timeout', kind: 'catchUp', view: 0 });
    expect(find(fired, 'stateTransfer')).toMatchObject({ targetSeq: 9 });
    // A stall at another height than the executed one, or with no transfer outstanding, is stale.
    expect(drops(r.step({ now: T0, type: 'transferStalled', seq: 0 }))).toEqual([DropReason.staleResult]);
    expect(drops(replica(1).step({ now: T0, type: 'transferStalled', seq: 0 }))).toEqual([
      DropReason.staleResult,
    ]);
  });

  it('a transfer that stalls below the stable checkpoint stays outstanding (consensus cannot reach it)', () => {
    const r = replica(1);
    r.step({ now: T0, type: 'peerProgress', checkpoint: proof(8, hashFor(8)) });
    expect(r.status().transferTarget).toBe(8);
    r.step({ now: T0, type: 'transferStalled', seq: 0 });
    expect(r.status().transferTarget).toBe(8);
  });

  it('progress at or below what it knows is stale', () => {
    const r = replica(1);
    commitThrough(r, 1, batch([tx(1)]));
    const out = r.step({
      now: T0,
      type: 'peerProgress',
      checkpoint: proof(0, SIM_GENESIS_HASH),
      head: commitCert(1, hashFor(1)),
    });
    expect(drops(out)).toEqual([DropReason.staleResult]);
  });
});

describe('Replica: signatures checked at the network edge', () => {
  it('skips only the outer signature check of a message the transport verified', () => {
    const d = batchDigest(batch([tx(1)]));
    const unsigned = { ...prepare(2, 0, 1, d), signature: new Uint8Array(64) };
    expect(drops(replica(1).step(msg(unsigned)))).toEqual([DropReason.badSignature]);
    expect(drops(replica(1).step({ now: T0, type: 'message', message: unsigned, verified: true }))).toEqual(
      [],
    );
    // Signatures nested in a VIEW-CHANGE are always checked: a bad checkpoint proof is refused.
    const vc = viewChange(2, 1, { ...proof(2, hashFor(2)), signatures: [] });
    const out = replica(1).step({ now: T0, type: 'message', message: vc, verified: true });
    expect(drops(out)).toEqual([DropReason.badViewChange]);
  });
});

describe('Replica: messages just above the window', () => {
  it('a PRE-PREPARE that overtakes the CHECKPOINTs moving the window is kept, then accepted', () => {
    const r = replica(1);
    commitThrough(r, 1, batch([tx(1)]));
    commitThrough(r, 2, batch([tx(2)]));
    // The primary saw checkpoint 2 become stable first and proposed seq 5, above this replica's (0, 4].
    const b5 = batch([tx(5)]);
    const early = r.step(msg(pp(5, b5)));
    expect(sent(early)).toEqual([]);
    expect(drops(early)).toEqual([]);
    expect(r.sizes().buffered).toBe(1);
    r.step(msg(checkpoint(0, 2, hashFor(2))));
    const moved = r.step(msg(checkpoint(2, 2, hashFor(2))));
    expect(r.status()).toMatchObject({ stableSeq: 2, highWatermark: 6 });
    expect(find(moved, 'broadcast')?.message).toMatchObject({ type: 'prepare', seq: 5 });
    expect(r.sizes().buffered).toBe(0);
  });

  it('keeps one checkpoint interval above the window only, and only for the current view', () => {
    const r = replica(1);
    const d = batchDigest(batch([tx(1)]));
    expect(drops(r.step(msg(prepare(2, 0, 6, d))))).toEqual([]);
    expect(drops(r.step(msg(prepare(2, 0, 7, d))))).toEqual([DropReason.aboveWindow]);
    expect(drops(r.step(msg(prepare(2, 1, 5, d))))).toEqual([DropReason.aboveWindow]);
    expect(drops(r.step(msg(prepare(2, 0, 6, d))))).toEqual([DropReason.duplicate]);
    expect(r.sizes().buffered).toBe(1);
  });
});

describe('Replica: the request timer measures progress', () => {
  const requestTimers = (out: Output[]) =>
    out.flatMap((o) => (o.type === 'setTimer' && o.kind === 'request' ? [o.ms] : []));
  const fire = (r: Replica, at: number) => r.step({ now: at, type: 'timeout', kind: 'request', view: 0 });
  const suspects = (out: Output[]) => find(out, 'broadcast')?.message.type === 'viewChange';

  it('a backlog longer than the timeout is not suspected while its txs keep committing', () => {
    const r = replica(1);
    for (let k = 1; k <= 12; k++) r.step({ now: T0, type: 'txArrived', tx: tx(k) });
    // Every 800 ms a block of 3 of them commits; the oldest has long waited more than the 1 s timeout.
    let at = T0;
    for (let seq = 1; seq <= 3; seq++) {
      at += 800;
      const b = batch([tx(3 * seq - 2), tx(3 * seq - 1), tx(3 * seq)], 0, 0, at);
      commitThrough(r, seq, b, 0, hashFor(seq), at);
      const out = fire(r, at + 200);
      expect(suspects(out)).toBe(false);
      expect(requestTimers(out)).toEqual([800]);
    }
    expect(r.status()).toMatchObject({ view: 0, status: 'normal', pendingTxs: 3 });
    // Then the primary stalls: a full timeout after the last progress, the backup suspects it.
    expect(r.status().suspicions).toEqual({ stall: 0, censorship: 0 });
    expect(suspects(fire(r, at + 1000))).toBe(true);
    expect(r.status().suspicions).toEqual({ stall: 1, censorship: 0 });
  });

  it('stops when nothing is pending, and starts a new period with the next tx', () => {
    const r = replica(1);
    r.step({ now: T0, type: 'txArrived', tx: tx(1) });
    commitThrough(r, 1, batch([tx(1)], 0, 0, T0 + 100), 0, hashFor(1), T0 + 100);
    expect(fire(r, T0 + 1000)).toEqual([]);
    // A tx arriving later gets a full timeout from its arrival, not from the last commit.
    const out = r.step({ now: T0 + 5000, type: 'txArrived', tx: tx(2) });
    expect(requestTimers(out)).toEqual([1000]);
    expect(suspects(fire(r, T0 + 5999))).toBe(false);
    expect(suspects(fire(r, T0 + 6000))).toBe(true);
  });

  it('a tx overtaken only by txs that arrived shortly after it is not censorship', () => {
    const r = replica(1);
    r.step({ now: T0, type: 'txArrived', tx: tx(1) });
    r.step({ now: T0 + 100, type: 'txArrived', tx: tx(2) });
    commitThrough(r, 1, batch([tx(2)], 0, 0, T0 + 500), 0, hashFor(1), T0 + 500);
    const out = fire(r, T0 + 1000);
    expect(suspects(out)).toBe(false);
    expect(requestTimers(out)).toEqual([500]);
    commitThrough(r, 2, batch([tx(1)], 0, 0, T0 + 1200), 0, hashFor(2), T0 + 1200);
    expect(fire(r, T0 + 1500)).toEqual([]);
  });

  it('a primary that keeps committing but leaves one tx out is suspected', () => {
    const r = replica(1);
    r.step({ now: T0, type: 'txArrived', tx: tx(1) });
    r.step({ now: T0, type: 'txArrived', tx: tx(2) });
    commitThrough(r, 1, batch([tx(2)], 0, 0, T0 + 900), 0, hashFor(1), T0 + 900);
    expect(suspects(fire(r, T0 + 1000))).toBe(false);
    // tx 3 arrives a full timeout after tx 1 and commits first: the primary skipped tx 1.
    r.step({ now: T0 + 1100, type: 'txArrived', tx: tx(3) });
    commitThrough(r, 2, batch([tx(3)], 0, 0, T0 + 1800), 0, hashFor(2), T0 + 1800);
    const watch = fire(r, T0 + 1900);
    expect(suspects(watch)).toBe(false);
    expect(requestTimers(watch)).toEqual([900]);
    // Blocks keep committing, yet a timeout after the evidence was seen the backup asks for a new view.
    r.step({ now: T0 + 2500, type: 'txArrived', tx: tx(4) });
    commitThrough(r, 3, batch([tx(4)], 0, 0, T0 + 2700), 0, hashFor(3), T0 + 2700);
    expect(requestTimers(fire(r, T0 + 2800))).toEqual([100]);
    expect(suspects(fire(r, T0 + 2900))).toBe(true);
    expect(r.status().suspicions).toEqual({ stall: 0, censorship: 1 });
  });
});

describe('Replica: view change', () => {
  it('a backup whose request times out sends a VIEW-CHANGE carrying its prepared certificates', () => {
    const r = replica(1);
    const b = batch([tx(1)]);
    r.step({ now: T0, type: 'txArrived', tx: tx(1) });
    r.step(msg(pp(1, b)));
    r.step(msg(prepare(2, 0, 1, batchDigest(b))));
    const out = r.step({ now: T0 + 1000, type: 'timeout', kind: 'request', view: 0 });
    const vc = find(out, 'broadcast')?.message;
    expect(vc?.type === 'viewChange' && vc.prepared.map((c) => [c.view, c.seq])).toEqual([[0, 1]]);
    expect(find(out, 'setTimer')).toMatchObject({ kind: 'viewChange', view: 1, ms: 500 });
  });

  it('the view-change timeout doubles per failed view, up to the cap', () => {
    const r = replica(1);
    // Validators 0 and 2 ask for view 2: f+1, so validator 1 joins (first attempt: the base timeout).
    r.step(msg(viewChange(0, 2)));
    expect(find(r.step(msg(viewChange(2, 2))), 'setTimer')).toMatchObject({ kind: 'viewChange', ms: 500 });
    const waits: number[] = [];
    for (let v = 2; v <= 4; v++) {
      // A quorum of VIEW-CHANGEs for the target, whose primary then stays silent.
      for (const from of [0, 2, 3]) r.step(msg(viewChange(from, v)));
      const out = r.step({ now: T0, type: 'timeout', kind: 'viewChange', view: v });
      waits.push(find(out, 'setTimer')!.ms);
    }
    expect(waits).toEqual([1000, 2000, 2000]);
    expect(r.status()).toMatchObject({ view: 5, status: 'viewChange' });
  });

  it('without a quorum of VIEW-CHANGEs it re-sends its own instead of racing ahead', () => {
    const r = inViewChange();
    const out = r.step({ now: T0 + 1500, type: 'timeout', kind: 'viewChange', view: 1 });
    expect(find(out, 'broadcast')?.message).toMatchObject({ type: 'viewChange', newView: 1 });
    expect(r.status().view).toBe(1);
  });

  it('when a quorum asked for this view or later ones, its timer moves it on to join them (no stall)', () => {
    // Validator 2 and 3 are in view 1; validator 0 already left for view 2 (it saw a quorum for view 1 that
    // included the Byzantine validator 1, which then fell silent). View 1 can never get a quorum now.
    const r = inViewChange(2);
    r.step(msg(viewChange(3, 1)));
    r.step(msg(viewChange(0, 2)));
    expect(r.status()).toMatchObject({ view: 1, status: 'viewChange' });
    const out = r.step({ now: T0 + 1500, type: 'timeout', kind: 'viewChange', view: 1 });
    expect(find(out, 'broadcast')?.message).toMatchObject({ type: 'viewChange', newView: 2 });
    expect(r.status()).toMatchObject({ view: 2, status: 'viewChange' });
  });

  it('a lone request for the next view: after two request timeouts it joins that view', () => {
    const r = replica(2);
    // Validator 0 asks alone for view 1 (it moved ahead alone, or it is Byzantine).
    const out = r.step(msg(viewChange(0, 1)));
    expect(sent(out)).toEqual([]);
    expect(find(out, 'setTimer')).toMatchObject({ kind: 'loneViewChange', view: 0, ms: 2000 });
    expect(r.status()).toMatchObject({ view: 0, status: 'normal' });
    const fired = r.step({ now: T0 + 2000, type: 'timeout', kind: 'loneViewChange', view: 0 });
    expect(find(fired, 'broadcast')?.message).toMatchObject({ type: 'viewChange', newView: 1 });
    expect(r.status()).toMatchObject({ view: 1, status: 'viewChange' });
  });

  it('a lone request for a view beyond the next forces no view change (issue 14)', () => {
    const r = replica(2);
    // Validator 3 asks alone for view 1000: an honest replica that moved ahead alone asks for the next view.
    const out = r.step(msg(viewChange(3, 1000)));
    expect(sent(out)).toEqual([]);
    expect(find(out, 'setTimer')).toBeUndefined();
    for (let k = 1; k <= 3; k++) {
      const fired = r.step({ now: T0 + 2000 * k, type: 'timeout', kind: 'loneViewChange', view: 0 });
      expect(sent(fired)).toEqual([]);
      expect(drops(fired)).toEqual([DropReason.staleTimer]);
    }
    expect(r.status()).toMatchObject({ view: 0, status: 'normal' });
    // Its request still counts towards the f+1 that prove an honest validator is in a later view.
    expect(find(r.step(msg(viewChange(0, 2))), 'broadcast')?.message).toMatchObject({ newView: 2 });
  });

  it('the lone view-change timer does nothing when nobody asks for a later view', () => {
    const r = replica(2);
    expect(find(r.step(msg(viewChange(0, 0))), 'setTimer')).toBeUndefined();
    const out = r.step({ now: T0 + 2000, type: 'timeout', kind: 'loneViewChange', view: 0 });
    expect(drops(out)).toEqual([DropReason.staleTimer]);
    expect(r.status()).toMatchObject({ view: 0, status: 'normal' });
  });

  it('joins a higher view once f+1 others ask for one, and not before', () => {
    const r = replica(2);
    expect(sent(r.step(msg(viewChange(0, 3))))).toEqual([]);
    const out = r.step(msg(viewChange(1, 3)));
    expect(find(out, 'broadcast')?.message).toMatchObject({ type: 'viewChange', newView: 3 });
  });

  it('the new primary sends NEW-VIEW once it has a quorum; backups re-issue and prepare', () => {
    const primary = replica(1);
    primary.step({ now: T0, type: 'txArrived', tx: tx(9) });
    primary.step({ now: T0 + 1000, type: 'timeout', kind: 'request', view: 0 });
    const d1 = batchDigest(batch([tx(1)]));
    primary.step(msg(viewChange(2, 1, undefined, [preparedCert(0, 1, d1)])));
    const out = primary.step(msg(viewChange(3, 1)));
    const nv = find(out, 'broadcast')?.message;
    expect(nv?.type).toBe('newView');
    if (nv?.type !== 'newView') return;
    expect(nv.prePrepares.map((p) => [p.seq, toHex(p.digest)])).toEqual([[1, toHex(d1)]]);
    expect(primary.status()).toMatchObject({ view: 1, status: 'normal' });
    // The body is not held by the primary: it asks for it.
    expect(find(out, 'fetchBatch')).toMatchObject({ seq: 1 });
    const backup = replica(3);
    const bout = backup.step(msg(nv));
    expect(find(bout, 'broadcast')?.message).toMatchObject({ type: 'prepare', view: 1, seq: 1 });
  });

  it('a replica in the new view answers a late VIEW-CHANGE with the NEW-VIEW', () => {
    const r = replica(3);
    const nv = newView(1, [viewChange(0, 1), viewChange(1, 1), viewChange(2, 1)]);
    r.step(msg(nv));
    const out = r.step(msg(viewChange(2, 1)));
    expect(find(out, 'send')).toMatchObject({ to: 2, message: { type: 'newView', view: 1 } });
  });

  it('f+1 signed messages from a higher view make a replica left behind ask to move on', () => {
    const r = replica(1);
    const dg = batchDigest(batch([tx(1)], 2, 2));
    expect(sent(r.step(msg(prepare(3, 2, 1, dg))))).toEqual([]);
    const out = r.step(msg(commit(0, 2, 1, hashFor(1))));
    expect(find(out, 'broadcast')?.message).toMatchObject({ type: 'viewChange', newView: 1 });
  });
});

describe('Replica: restart', () => {
  it('restores view, checkpoint and log from its records and re-sends its PREPAREs', () => {
    const r = replica(1);
    const store = new Map<string, Uint8Array>();
    const b1 = batch([tx(1)]);
    applyPersist(store, commitThrough(r, 1, b1));
    applyPersist(store, commitThrough(r, 2, batch([tx(2)])));
    for (const v of [0, 2]) applyPersist(store, r.step(msg(checkpoint(v, 2, hashFor(2)))));
    applyPersist(store, r.step(msg(pp(3, batch([tx(3)])))));
    const again = Replica.restore(
      {
        chainId: CHAIN,
        validators: set,
        self: 1,
        params,
        genesisHash: SIM_GENESIS_HASH,
        signer: signers[1]!,
        verify: simVerify,
      },
      readPersisted(store),
      { height: 2, hash: hashFor(2), time: T0 },
    );
    expect(again.status()).toMatchObject({ view: 0, stableSeq: 2, lastExecuted: 2 });
    const out = again.step({ now: T0, type: 'start' });
    expect(find(out, 'broadcast')?.message).toMatchObject({ type: 'prepare', seq: 3 });
  });

  it('a prepared certificate survives a crash: the restarted replica reports it in its VIEW-CHANGE', () => {
    const r = replica(1);
    const store = new Map<string, Uint8Array>();
    const b = batch([tx(1)]);
    applyPersist(store, r.step(msg(pp(1, b))));
    applyPersist(store, r.step(msg(prepare(2, 0, 1, batchDigest(b)))));
    const built = r.step({
      now: T0,
      type: 'blockBuilt',
      seq: 1,
      digest: batchDigest(b),
      headerHash: hashFor(1),
    });
    applyPersist(store, built);
    // It sent its COMMIT, so it must remember being prepared whatever happens next.
    expect(find(built, 'broadcast')?.message.type).toBe('commit');
    const again = Replica.restore(
      {
        chainId: CHAIN,
        validators: set,
        self: 1,
        params,
        genesisHash: SIM_GENESIS_HASH,
        signer: signers[1]!,
        verify: simVerify,
      },
      readPersisted(store),
      { height: 0, hash: SIM_GENESIS_HASH, time: T0 },
    );
    again.step({ now: T0, type: 'start' });
    again.step({ now: T0, type: 'txArrived', tx: tx(5) });
    const out = again.step({ now: T0 + 1000, type: 'timeout', kind: 'request', view: 0 });
    const vc = find(out, 'broadcast')?.message;
    expect(vc?.type === 'viewChange' && vc.prepared.map((c) => [c.view, c.seq, toHex(c.digest)])).toEqual([
      [0, 1, toHex(batchDigest(b))],
    ]);
  });

  it('after a restart it still answers a late VIEW-CHANGE with the NEW-VIEW of its view', () => {
    const r = replica(3);
    const store = new Map<string, Uint8Array>();
    applyPersist(store, r.step(msg(newView(1, [viewChange(0, 1), viewChange(1, 1), viewChange(2, 1)]))));
    const again = Replica.restore(
      {
        chainId: CHAIN,
        validators: set,
        self: 3,
        params,
        genesisHash: SIM_GENESIS_HASH,
        signer: signers[3]!,
        verify: simVerify,
      },
      readPersisted(store),
      { height: 0, hash: SIM_GENESIS_HASH, time: T0 },
    );
    again.step({ now: T0, type: 'start' });
    expect(again.status()).toMatchObject({ view: 1, status: 'normal' });
    const out = again.step(msg(viewChange(0, 1)));
    expect(find(out, 'send')).toMatchObject({ to: 0, message: { type: 'newView', view: 1 } });
  });

  it('a restarted replica refuses to sign a different PRE-PREPARE for a (view, seq) it signed', () => {
    const r = replica(0);
    const store = new Map<string, Uint8Array>();
    for (const k of [1, 2, 3]) applyPersist(store, r.step({ now: T0, type: 'txArrived', tx: tx(k) }));
    const again = Replica.restore(
      {
        chainId: CHAIN,
        validators: set,
        self: 0,
        params,
        genesisHash: SIM_GENESIS_HASH,
        signer: signers[0]!,
        verify: simVerify,
      },
      readPersisted(store),
      { height: 0, hash: SIM_GENESIS_HASH, time: T0 },
    );
    again.step({ now: T0, type: 'start' });
    // The same txs again: the restored primary proposes at seq 2, never a second batch at seq 1.
    for (const k of [4, 5, 6]) again.step({ now: T0, type: 'txArrived', tx: tx(k) });
    const proposals = [...store.keys()].filter((k) => k.startsWith('vote/'));
    expect(proposals).toEqual([RecordKey.vote(1)]);
    const state = (again as unknown as { state: Pick<CoreState, 'nextSeq' | 'guard'> }).state;
    expect(state.nextSeq).toBe(3);
    expect(() => state.guard.authorizeVote('prePrepare', 0, 1, hashFor(9))).toThrow(InvariantError);
  });
});
