/**
 * The fast subset of the cluster fault suite, run by `npm test`: four validator processes each, real sockets,
 * real LevelDB directories (test/cluster/harness). The full suite, `npm run test:cluster`, adds
 * test/cluster/full/. Every scenario ends with the invariant check (harness/checker.ts) after healing.
 */
import { describe, expect, it } from 'vitest';
import { joinFifth } from './harness/governance.ts';
import { runScenario } from './harness/scenario.ts';

const SCENARIO_TIMEOUT_MS = 8 * 60_000;

describe('cluster faults, 4 validators (fast subset)', () => {
  it(
    '1. steady load: every acknowledged tx committed once, one chain everywhere',
    async () => {
      await runScenario({ name: 'steady-4', validators: 4 }, async (s) => {
        await s.cluster.waitUntil('100 acknowledged txs', async () => s.load.acked.size >= 100, s.bound);
        expect(s.load.unsuccessfulAttempts).toBe(0);
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '3. the primary is SIGKILLed: a view change, and commits resume within the bound',
    async () => {
      await runScenario({ name: 'primary-kill-4', validators: 4 }, async (s) => {
        await s.waitProgress('warm-up', { blocks: 10 });
        const { index: primary, view } = await s.cluster.primary();
        const others = s.live().filter((i) => i !== primary);
        const height = Math.max(...[...(await s.heights(others)).values()].map((x) => x.height));
        const killedAt = Date.now();
        await s.cluster.kill(primary);
        s.note('viewChangeRecoveryMs', await s.waitNewView(view, height, killedAt, others));
        await s.waitProgress('commits in the new view', { nodes: others, blocks: 5 });
        await s.cluster.startNode(primary);
        s.note('oldPrimaryCatchUpMs', await s.waitCaughtUp(primary));
        s.note('oldPrimaryValidatesMs', await s.waitValidates(primary, height));
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '9. a 2-2 partition: no progress and no fork; once healed, progress within the bound',
    async () => {
      await runScenario({ name: 'partition-2-2', validators: 4 }, async (s) => {
        await s.waitProgress('warm-up', { blocks: 10 });
        s.cluster.links.partition([
          [0, 1],
          [2, 3],
        ]);
        // Long enough for libp2p to drop the silent connections: healing then needs redials.
        await s.expectStalled([0, 1, 2, 3], { reachAtMost: 2 });
        const healedAt = Date.now();
        s.cluster.links.healAll();
        await s.waitProgress('progress after the partition healed');
        s.note('recoveryAfterHealMs', Date.now() - healedAt);
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'governance: a fifth institution joins the running alliance under load, syncs and validates (n=5, quorum 4)',
    async () => {
      // The whole scenario (removal, rotation, forged approvals) is test/cluster/full/governance.test.ts.
      await runScenario({ name: 'join-4', validators: 4, joining: 1 }, async (s) => {
        await s.waitProgress('warm-up', { blocks: 5 });
        await joinFifth(s);
      });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
