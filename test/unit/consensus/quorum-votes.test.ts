/**
 * Which votes count towards a quorum in the normal case: only PREPAREs for the accepted digest make a batch
 * prepared, and only COMMITs for the header this replica built commit a block. A vote for another value
 * (a Byzantine validator, or one that built another block) never completes a quorum.
 */
import { describe, expect, it } from 'vitest';
import { batchDigest } from '../../../src/core/batch.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { batch, commit, find, hashFor, msg, pp, prepare, replica, T0, tx } from './helpers.ts';

const b = batch([tx(1)]);
const d = batchDigest(b);
const other = batchDigest(batch([tx(2)]));

describe('normal-case quorums count matching votes only', () => {
  it('a PREPARE for another digest does not help prepare the accepted one', () => {
    const r = replica(1);
    r.step(msg(pp(1, b)));
    // Its own PREPARE for d plus validator 3's for another digest: one short of the q − 1 = 2 needed.
    expect(find(r.step(msg(prepare(3, 0, 1, other))), 'buildBlock')).toBeUndefined();
    const out = r.step(msg(prepare(2, 0, 1, d)));
    expect(find(out, 'buildBlock')).toMatchObject({ seq: 1, digest: d });
  });

  it('a COMMIT for another header does not help commit the built one, nor enter its certificate', () => {
    const r = replica(1);
    r.step(msg(pp(1, b)));
    r.step(msg(prepare(2, 0, 1, d)));
    const built = r.step({ now: T0, type: 'blockBuilt', seq: 1, digest: d, headerHash: hashFor(1) });
    expect(find(built, 'broadcast')?.message).toMatchObject({ type: 'commit', seq: 1 });
    r.step(msg(commit(2, 0, 1, hashFor(1))));
    // Validator 3 committed another header: with its vote there are three COMMITs but only two match.
    expect(find(r.step(msg(commit(3, 0, 1, hashFor(1, 'x')))), 'commitBlock')).toBeUndefined();
    expect(r.status().lastExecuted).toBe(0);
    const out = r.step(msg(commit(0, 0, 1, hashFor(1))));
    const done = find(out, 'commitBlock');
    expect(done?.certificate.signatures.map((s) => s.validator)).toEqual([0, 1, 2]);
    expect(toHex(done!.certificate.headerHash)).toBe(toHex(hashFor(1)));
  });
});
