/**
 * The case workload executes without a single rejection, and the statistics the ledger keeps at execution
 * equal an independent count over the generated txs (their decoded payloads and block times).
 */
import { describe, expect, it } from 'vitest';
import { decodeCase } from '../../../../src/core/case.ts';
import { genesisHash } from '../../../../src/core/genesis.ts';
import {
  caseWorkloadBlocks,
  certifyWorkloadBlock,
  workloadGenesis,
} from '../../../../src/dev/bench/case-workload.ts';
import { ALL_GROUP, institutionGroup, monthGroup, statsView } from '../../../../src/ledger/case-stats.ts';
import { LedgerChain } from '../../../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../../../src/ledger/memory-store.ts';

interface Tally {
  opened: number;
  assigned: number;
  agreed: number;
  failed: number;
  withdrawn: number;
  applied: number;
  confirmed: number;
  refused: number;
  closed: number;
  mediationMs: number[];
}

const empty = (): Tally => ({
  opened: 0,
  assigned: 0,
  agreed: 0,
  failed: 0,
  withdrawn: 0,
  applied: 0,
  confirmed: 0,
  refused: 0,
  closed: 0,
  mediationMs: [],
});

describe('the case workload', () => {
  it('executes cleanly and its statistics match an independent count', async () => {
    const seed = 20_260_101;
    const chain = await LedgerChain.open(new MemoryLedgerStore(), workloadGenesis());
    const all = empty();
    const byMonth = new Map<string, Tally>();
    const respondent = new Map<string, string>();
    const assignedAt = new Map<string, number>();
    let txs = 0;
    let evidence = 0;
    for (const block of caseWorkloadBlocks({ cases: 300, evidencePerCase: 2, seed, days: 60 }, 500)) {
      const built = await chain.buildBlock({ proposer: 0, view: 0, time: block.time, txs: block.txs });
      expect(built.rejected, `seed ${seed}`).toEqual([]);
      await chain.commitBlock(built, certifyWorkloadBlock(built.header, genesisHash(chain.genesis)));
      const month = new Date(block.time).toISOString().slice(0, 7);
      if (!byMonth.has(month)) byMonth.set(month, empty());
      for (const env of block.txs) {
        txs++;
        if (env.tx.type !== 'case') {
          evidence++;
          continue;
        }
        const { caseId, event } = decodeCase(env.tx.payload);
        const counted: keyof Tally | undefined =
          event.type === 'open'
            ? 'opened'
            : event.type === 'assign'
              ? 'assigned'
              : event.type === 'agree'
                ? 'agreed'
                : event.type === 'fail'
                  ? 'failed'
                  : event.type === 'withdraw'
                    ? 'withdrawn'
                    : event.type === 'applyConfirmation'
                      ? 'applied'
                      : event.type === 'decide'
                        ? event.decision
                        : event.type === 'close'
                          ? 'closed'
                          : undefined;
        if (event.type === 'open') respondent.set(caseId, event.respondent);
        if (event.type === 'assign') assignedAt.set(caseId, block.time);
        if (counted === undefined) continue;
        all[counted]++;
        byMonth.get(month)![counted]++;
        if (event.type === 'agree' || event.type === 'fail') {
          const ms = block.time - assignedAt.get(caseId)!;
          all.mediationMs.push(ms);
          byMonth.get(month)!.mediationMs.push(ms);
        }
      }
    }
    expect(evidence).toBe(600);
    expect(txs).toBeGreaterThan(1500);

    const check = (group: string, t: Tally) => {
      const v = statsView(chain.caseStats.group(group)!) as Record<string, any>;
      for (const k of [
        'opened',
        'assigned',
        'agreed',
        'failed',
        'withdrawn',
        'applied',
        'confirmed',
        'refused',
        'closed',
      ] as const)
        expect(v[k], `${group} ${k} (seed ${seed})`).toBe(t[k]);
      const mediated = t.agreed + t.failed;
      expect(v.mediated).toBe(mediated);
      expect(v.successRate).toBeCloseTo(mediated === 0 ? Number.NaN : t.agreed / mediated, 12);
      const avg = t.mediationMs.reduce((a, b) => a + b, 0) / t.mediationMs.length / 3_600_000;
      expect(v.mediationHours.average).toBeCloseTo(avg, 9);
      // The median lies within its 10-minute bucket.
      const sorted = [...t.mediationMs].sort((a, b) => a - b);
      const median = sorted[Math.ceil(sorted.length / 2) - 1]! / 3_600_000;
      expect(v.mediationHours.p50).toBeGreaterThan(median);
      expect(v.mediationHours.p50 - median).toBeLessThanOrEqual(1 / 6);
    };
    check(ALL_GROUP, all);
    for (const [month, t] of byMonth)
      if (t.agreed + t.failed > 0) check(monthGroup(Date.parse(`${month}-15`)), t);
    // Every case is counted once under its respondent bank.
    const openedByBank = new Map<string, number>();
    for (const bank of respondent.values()) openedByBank.set(bank, (openedByBank.get(bank) ?? 0) + 1);
    for (const [bank, n] of openedByBank)
      expect((statsView(chain.caseStats.group(institutionGroup(bank))!) as { opened: number }).opened).toBe(
        n,
      );
    // The mix is the seed's: about 68.9 % of mediated cases agreed.
    expect(all.agreed / (all.agreed + all.failed)).toBeGreaterThan(0.6);
    expect(all.agreed / (all.agreed + all.failed)).toBeLessThan(0.78);
  });
});
