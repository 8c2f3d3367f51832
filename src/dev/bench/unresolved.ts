/**
 * After a run: where the acknowledged txs that did not reach every chain were (docs/benchmark.md "Lost"). A tx
 * on some chains but not all sits behind a lagging validator; a tx on none is either still waiting in some
 * validator's pool (the drain ended first) or in no pool at all (acknowledged, then dropped: a real loss).
 */

export interface UnresolvedSplit {
  /** Acknowledged txs not on every validator's chain when the drain ended. */
  total: number;
  /** Of those, on at least one chain (a validator lagging behind). */
  onSomeChains: number;
  /** On no chain, but still in at least one validator's pool (the drain ended first). */
  pooled: number;
  /** On no chain and in no validator's pool: acknowledged, then dropped. */
  inNoPool: number;
  /** Of the pooled ones, how many each validator held (node0, node1, ...). */
  pooledBy: Record<string, number>;
  /** Probe answers that are neither 'pending' nor 'accepted' nor 'committed', by code. */
  otherAnswers: Record<string, number>;
}

/** Probe chunk: well under the batch endpoint's body limit. */
const PROBE_BATCH = 256;

/**
 * `txs`: each unresolved tx and the bit mask of the chains it is on. `offer(k, batch)` re-submits txs to
 * validator k and returns each one's answer ('pending': the pool held it; 'accepted': it did not).
 */
export async function probeUnresolved(
  txs: readonly { i: number; onChains: number }[],
  nodes: number,
  offer: (k: number, batch: number[]) => Promise<string[]>,
): Promise<UnresolvedSplit> {
  const split: UnresolvedSplit = {
    total: txs.length,
    onSomeChains: 0,
    pooled: 0,
    inNoPool: 0,
    pooledBy: {},
    otherAnswers: {},
  };
  const onNone = txs.filter((t) => t.onChains === 0).map((t) => t.i);
  split.onSomeChains = txs.length - onNone.length;
  const held = new Set<number>();
  const counts = new Array<number>(nodes).fill(0);
  const note = (batch: number[], k: number, answers: string[]) =>
    answers.forEach((a, n) => {
      if (a === 'pending') {
        held.add(batch[n]!);
        counts[k]!++;
      } else if (a !== 'accepted' && a !== 'committed') {
        split.otherAnswers[a] = (split.otherAnswers[a] ?? 0) + 1;
      }
    });
  // Every validator is asked at once: a tx one of them admits now is forwarded to the others a few ms later,
  // which could make them answer 'pending' (so the probe can undercount inNoPool, never overcount it).
  for (let at = 0; at < onNone.length; at += PROBE_BATCH) {
    const batch = onNone.slice(at, at + PROBE_BATCH);
    const all = await Promise.all(
      counts.map((_, k) => offer(k, batch).catch(() => batch.map(() => 'REQUEST_ERROR'))),
    );
    for (const [k, answers] of all.entries()) note(batch, k, answers);
  }
  counts.forEach((c, k) => {
    split.pooledBy[`node${k}`] = c;
  });
  split.pooled = held.size;
  split.inNoPool = onNone.length - held.size;
  return split;
}
