import { describe, expect, it } from 'vitest';
import { SignGuard } from '../../../src/consensus/guard.ts';
import type { PersistOp } from '../../../src/consensus/persist.ts';
import { readPersisted } from '../../../src/consensus/persist.ts';
import { InvariantError } from '../../../src/core/errors.ts';
import { hashFor } from './helpers.ts';

function reload(ops: PersistOp[]): SignGuard {
  const store = new Map<string, Uint8Array>();
  for (const op of ops) {
    if (op.op === 'put') store.set(op.key, op.value);
    else store.delete(op.key);
  }
  const st = readPersisted(store);
  return new SignGuard(st.guard, st.votes);
}

describe('SignGuard', () => {
  it('allows the same value again but never a second value for one (view, seq, phase)', () => {
    const g = new SignGuard();
    g.authorizeVote('prepare', 1, 5, hashFor(1));
    expect(g.authorizeVote('prepare', 1, 5, hashFor(1))).toEqual([]);
    expect(() => g.authorizeVote('prepare', 1, 5, hashFor(2))).toThrow(InvariantError);
    // Other phases and seqs are independent; pipelined seqs may be signed out of order.
    g.authorizeVote('commit', 1, 5, hashFor(3));
    g.authorizeVote('prepare', 1, 3, hashFor(4));
  });

  it('refuses any vote in a view below one it voted in or asked to leave for', () => {
    const g = new SignGuard();
    g.authorizeVote('prepare', 2, 5, hashFor(1));
    expect(() => g.authorizeVote('prepare', 1, 6, hashFor(1))).toThrow(InvariantError);
    g.authorizeViewChange(4);
    expect(() => g.authorizeVote('commit', 3, 7, hashFor(1))).toThrow(InvariantError);
    g.authorizeVote('prepare', 4, 5, hashFor(9));
  });

  it('signs at most one VIEW-CHANGE and one NEW-VIEW per view, moving forward only', () => {
    const g = new SignGuard();
    g.authorizeViewChange(1);
    expect(() => g.authorizeViewChange(1)).toThrow(InvariantError);
    g.authorizeNewView(1);
    expect(() => g.authorizeNewView(1)).toThrow(InvariantError);
    g.authorizeVote('prePrepare', 1, 1, hashFor(1));
    expect(() => g.authorizeViewChange(1)).toThrow(InvariantError);
  });

  it('one CHECKPOINT hash per seq', () => {
    const g = new SignGuard();
    g.authorizeCheckpoint(4, hashFor(4));
    expect(g.authorizeCheckpoint(4, hashFor(4))).toEqual([]);
    expect(() => g.authorizeCheckpoint(4, hashFor(4, 'x'))).toThrow(InvariantError);
  });

  it('survives a restart: what it persisted is what it refuses to contradict', () => {
    const g = new SignGuard();
    const ops = [
      ...g.authorizeVote('prePrepare', 3, 10, hashFor(10)),
      ...g.authorizeViewChange(5),
      ...g.authorizeCheckpoint(8, hashFor(8)),
    ];
    const again = reload(ops);
    expect(() => again.authorizeVote('prePrepare', 3, 10, hashFor(11))).toThrow(InvariantError);
    expect(() => again.authorizeVote('prepare', 4, 11, hashFor(11))).toThrow(InvariantError);
    expect(() => again.authorizeCheckpoint(8, hashFor(9))).toThrow(InvariantError);
    expect(() => again.authorizeViewChange(5)).toThrow(InvariantError);
  });

  it('forgets seqs at or below the stable checkpoint', () => {
    const g = new SignGuard();
    g.authorizeVote('prepare', 0, 1, hashFor(1));
    g.authorizeVote('prepare', 0, 2, hashFor(2));
    const ops = g.prune(1);
    expect(ops).toEqual([{ op: 'del', key: 'vote/0000000000000001' }]);
    expect(g.size).toBe(1);
  });
});
