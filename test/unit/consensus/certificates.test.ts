/**
 * The certificate rules on their own (src/consensus/certificates.ts): what a checkpoint proof, a prepared
 * certificate and a VIEW-CHANGE must satisfy. Each case breaks exactly one rule of an otherwise valid message,
 * and a valid one is accepted next to it, so a check that is dropped or loosened fails here.
 */
import { describe, expect, it } from 'vitest';
import {
  verifyCheckpointProof,
  verifyCommitQuorum,
  verifyPreparedCertificate,
  verifyViewChange,
} from '../../../src/consensus/certificates.ts';
import { DropReason } from '../../../src/consensus/errors.ts';
import type { PreparedCertificate } from '../../../src/consensus/messages.ts';
import { batchDigest } from '../../../src/core/batch.ts';
import { batch, commitCert, ctx, hashFor, prepare, preparedCert, proof, tx, viewChange } from './helpers.ts';

const d = batchDigest(batch([tx(1)]));
const rejects = (f: () => void, code: DropReason, message: RegExp) =>
  expect(f).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));

describe('checkpoint proofs', () => {
  it('count each validator once: a duplicated signer does not make a quorum', () => {
    const good = proof(2, hashFor(2), [0, 1, 2]);
    expect(() => verifyCheckpointProof(ctx, good, DropReason.badCheckpoint)).not.toThrow();
    const dup = proof(2, hashFor(2), [0, 0, 1]);
    expect(dup.signatures).toHaveLength(ctx.q);
    rejects(
      () => verifyCheckpointProof(ctx, dup, DropReason.badCheckpoint),
      DropReason.badCheckpoint,
      /bad signer 0/,
    );
  });
});

describe('commit certificates without a header', () => {
  it('count each validator once', () => {
    expect(() => verifyCommitQuorum(ctx, commitCert(1, hashFor(1)), DropReason.badCertificate)).not.toThrow();
    const dup = commitCert(1, hashFor(1), 0, [2, 2, 3]);
    rejects(
      () => verifyCommitQuorum(ctx, dup, DropReason.badCertificate),
      DropReason.badCertificate,
      /bad signer 2/,
    );
  });
});

describe('prepared certificates', () => {
  it('do not count the primary’s PREPARE: q − 1 PREPAREs from backups are needed', () => {
    const good = preparedCert(0, 1, d, [1, 2]);
    expect(() => verifyPreparedCertificate(ctx, good, DropReason.badViewChange)).not.toThrow();
    // View 0's primary is validator 0: its PREPARE plus one backup's is one backup short of a certificate.
    const withPrimary: PreparedCertificate = {
      ...good,
      prepares: [0, 1].map((v) => ({ validator: v, signature: prepare(v, 0, 1, d).signature })),
    };
    rejects(
      () => verifyPreparedCertificate(ctx, withPrimary, DropReason.badViewChange),
      DropReason.badViewChange,
      /the primary cannot prepare/,
    );
  });
});

describe('VIEW-CHANGE certificates', () => {
  it('are from views below the view asked for', () => {
    expect(() => verifyViewChange(ctx, viewChange(2, 2, undefined, [preparedCert(1, 1, d)]))).not.toThrow();
    rejects(
      () => verifyViewChange(ctx, viewChange(2, 2, undefined, [preparedCert(2, 1, d)])),
      DropReason.badViewChange,
      /prepared in view 2 >= new view/,
    );
  });

  it('lie inside the watermark window above the checkpoint', () => {
    // L = 4 above checkpoint 0: seqs 1..4 only.
    expect(() =>
      verifyViewChange(ctx, viewChange(2, 1, undefined, [preparedCert(0, ctx.l, d)])),
    ).not.toThrow();
    rejects(
      () => verifyViewChange(ctx, viewChange(2, 1, undefined, [preparedCert(0, ctx.l + 1, d)])),
      DropReason.badViewChange,
      /outside \(0, 4\]/,
    );
    rejects(
      () => verifyViewChange(ctx, viewChange(2, 1, proof(2, hashFor(2)), [preparedCert(0, 2, d)])),
      DropReason.badViewChange,
      /outside \(2, 6\]/,
    );
  });
});
