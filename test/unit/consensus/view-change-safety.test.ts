/**
 * What a VIEW-CHANGE must carry for the view change to be safe (issue 14). The dangerous state: a batch that
 * committed at one honest replica, but is only prepared (or unseen) at the others, when the view changes. The
 * replica that executed it must still report its prepared certificate (executed is not stable: the stable
 * checkpoint may lie below), or a NEW-VIEW built from its VIEW-CHANGE, a Byzantine one and one from a replica
 * that never saw the batch would let the new primary put another batch at the same height: a fork.
 */
import { describe, expect, it } from 'vitest';
import type { ViewChange } from '../../../src/consensus/messages.ts';
import { planNewView } from '../../../src/consensus/view-change.ts';
import { batchDigest } from '../../../src/core/batch.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { batch, commitThrough, ctx, find, msg, params, replica, T0, tx, viewChange } from './helpers.ts';

describe('a VIEW-CHANGE after a batch committed at only some replicas', () => {
  it('carries the prepared certificate of every seq above the stable checkpoint, executed ones included', () => {
    expect(params.checkpointInterval).toBeGreaterThan(1); // seq 1 executes without becoming stable
    const r = replica(1);
    const b = batch([tx(1)]);
    const out = commitThrough(r, 1, b);
    expect(find(out, 'commitBlock')).toMatchObject({ seq: 1 });
    expect(r.status()).toMatchObject({ lastExecuted: 1, stableSeq: 0 });
    // Validators 2 and 3 ask for view 1: f+1, so validator 1 joins with its own VIEW-CHANGE.
    r.step(msg(viewChange(2, 1)));
    const vc = find(r.step(msg(viewChange(3, 1))), 'broadcast')?.message as ViewChange | undefined;
    expect(vc).toMatchObject({ type: 'viewChange', newView: 1, from: 1 });
    expect(vc!.prepared.map((c) => [c.view, c.seq, toHex(c.digest)])).toEqual([
      [0, 1, toHex(batchDigest(b))],
    ]);

    // The NEW-VIEW from this VIEW-CHANGE, a Byzantine one that omits everything and one from a replica that
    // never saw seq 1 must re-issue the committed batch at seq 1, not a null batch or a new proposal.
    const plan = planNewView(ctx, 1, [vc!, viewChange(0, 1), viewChange(2, 1)]);
    expect(plan.entries.map((e) => [e.seq, toHex(e.digest), e.isNull])).toEqual([
      [1, toHex(batchDigest(b)), false],
    ]);
  });

  it('after its request timer fires, too', () => {
    const r = replica(2);
    const b = batch([tx(1)]);
    commitThrough(r, 1, b);
    r.step({ now: T0, type: 'txArrived', tx: tx(7) });
    const out = r.step({ now: T0 + params.requestTimeoutMs, type: 'timeout', kind: 'request', view: 0 });
    const vc = find(out, 'broadcast')?.message as ViewChange | undefined;
    expect(vc?.type).toBe('viewChange');
    expect(vc!.prepared.map((c) => c.seq)).toEqual([1]);
  });
});
