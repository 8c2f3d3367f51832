/**
 * Seven validators (f = 2, quorum 5) under a modest load, as the alliance grows (`npm run test:cluster`):
 * steady load, two primaries in a row crashed (the view change passes a dead primary), and f+1 down.
 */
import { describe, it } from 'vitest';
import { runScenario, type Scenario } from '../harness/scenario.ts';

const SCENARIO_TIMEOUT_MS = 12 * 60_000;
/** Seven processes share two cores: less load than for four. */
const LOAD_7 = { ratePerSec: 5, concurrency: 3 };

async function maxHeight(s: Scenario, nodes = s.live()): Promise<number> {
  return Math.max(...[...(await s.heights(nodes)).values()].map((x) => x.height));
}

describe('cluster faults, 7 validators', () => {
  it(
    '1. steady load on 7',
    async () => {
      await runScenario({ name: 'steady-7', validators: 7, load: LOAD_7 }, async (s) => {
        await s.cluster.waitUntil('80 acknowledged txs', async () => s.load.acked.size >= 80, s.bound);
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '3. the primary and the next one are SIGKILLed: the view change passes the dead one',
    async () => {
      await runScenario({ name: 'two-primaries-kill-7', validators: 7, load: LOAD_7 }, async (s) => {
        await s.waitProgress('warm-up', { blocks: 10 });
        const { index: primary, view } = await s.cluster.primary();
        const down = [primary, (primary + 1) % s.cluster.n];
        const others = s.live().filter((i) => !down.includes(i));
        const height = await maxHeight(s, others);
        const killedAt = Date.now();
        await Promise.all(down.map((i) => s.cluster.kill(i)));
        s.note('viewChangeRecoveryMs', await s.waitNewView(view + 1, height, killedAt, others));
        await s.waitProgress('commits in the new view', { nodes: others, blocks: 5 });
        await Promise.all(down.map((i) => s.cluster.startNode(i)));
        for (const i of down) await s.waitCaughtUp(i);
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '4. f+1 = 3 validators down: no progress and no fork; once restored, progress within the bound',
    async () => {
      await runScenario({ name: 'f-plus-1-down-7', validators: 7, load: LOAD_7 }, async (s) => {
        await s.waitProgress('warm-up', { blocks: 10 });
        const { index: primary } = await s.cluster.primary();
        const down = [primary, (primary + 3) % s.cluster.n, (primary + 5) % s.cluster.n];
        await Promise.all(down.map((i) => s.cluster.kill(i)));
        await s.expectStalled(s.live());
        await Promise.all(down.map((i) => s.cluster.startNode(i)));
        s.note('recoveryAfterRestoreMs', await s.waitProgress('progress after the restore', { count: s.q }));
      });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
