/**
 * The time-stamping authority goes down (`npm run test:cluster`): blocks keep committing, the anchor lag shows
 * in the status, and once the TSA is back the anchors catch up; every anchor then verifies (the checker).
 */
import { describe, it } from 'vitest';
import { AnchoringDefaults } from '../../../src/node/anchoring.ts';
import { runScenario } from '../harness/scenario.ts';

const SCENARIO_TIMEOUT_MS = 10 * 60_000;

describe('the TSA, 4 validators', () => {
  it(
    '13. the TSA goes down for a while: blocks keep committing, anchors catch up after it returns',
    async () => {
      await runScenario({ name: 'tsa-outage-4', validators: 4, anchorIntervalMs: 1000 }, async (s) => {
        const anchored = async () => {
          const st = await s.heights();
          return Math.max(...[...st.values()].map((x) => x.anchor?.anchoredHeight ?? 0));
        };
        await s.cluster.waitUntil('a first anchor', async () => (await anchored()) > 0, s.bound);
        await s.cluster.tsa.kill();
        await s.waitProgress('commits while the TSA is down', { blocks: 30 });
        // Down long enough for the anchoring backoff to grow (1 s doubling per failure).
        await s.cluster.waitUntil(
          'the primary to report the TSA failure and an anchor lag of 100 blocks',
          async () =>
            [...(await s.heights()).values()].some(
              (x) =>
                x.isPrimary && x.anchor !== null && x.anchor.lastError !== null && x.anchor.lagBlocks >= 100,
            ),
          s.bound,
        );
        const heights = [...(await s.heights()).values()].map((x) => x.height);
        const target = Math.max(...heights);
        const restoredAt = Date.now();
        await s.cluster.tsa.start();
        // The anchoring service retries with a backoff capped at backoffMaxMs (jittered): one cap, the interval,
        // and a view change's worth of the progress bound.
        await s.cluster.waitUntil(
          `the anchors to cover height ${target}`,
          async () => (await anchored()) >= target,
          AnchoringDefaults.backoffMaxMs + s.bound,
        );
        s.note('anchorCatchUpMs', Date.now() - restoredAt);
      });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
