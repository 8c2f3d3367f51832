/**
 * Network faults on real sockets, through the per-link proxies (harness/links.ts): an isolated primary, a
 * primary whose outgoing traffic is lost, and flapping links with added delay; four validators under load
 * (`npm run test:cluster`). The 2-2 partition is in the fast subset (test/cluster/fast.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { runScenario, type Scenario } from '../harness/scenario.ts';

const SCENARIO_TIMEOUT_MS = 10 * 60_000;

async function maxHeight(s: Scenario, nodes = s.live()): Promise<number> {
  return Math.max(...[...(await s.heights(nodes)).values()].map((x) => x.height));
}

/** After a fault on `old`: it is back in the view the others run, caught up, and signing again. */
async function expectRejoined(s: Scenario, old: number, others: number[]): Promise<void> {
  const healedAt = Date.now();
  const height = await maxHeight(s, others);
  await s.cluster.waitUntil(
    'the old primary to run the view the others run',
    async () => {
      const views = [...(await s.heights(others)).values()].map((x) => x.view);
      const st = await s.cluster.nodes[old]!.tryStatus();
      return st !== undefined && st.consensus === 'normal' && st.view === Math.max(...views);
    },
    s.bound,
  );
  s.note('rejoinMs', Date.now() - healedAt);
  await s.waitCaughtUp(old);
  s.note('validatesMs', await s.waitValidates(old, height));
}

describe('cluster faults on the network, 4 validators', () => {
  it(
    '10. an isolated primary: the others change view and go on; the old primary rejoins',
    async () => {
      await runScenario({ name: 'isolated-primary-4', validators: 4 }, async (s) => {
        await s.waitProgress('warm-up', { blocks: 10 });
        const { index: primary, view } = await s.cluster.primary();
        const others = s.live().filter((i) => i !== primary);
        const height = await maxHeight(s, others);
        const isolatedAt = Date.now();
        s.cluster.links.isolate(primary);
        s.note('viewChangeRecoveryMs', await s.waitNewView(view, height, isolatedAt, others));
        // Long enough that the silent connections are dropped and healing needs redials.
        await s.cluster.waitUntil(
          'the isolated primary to lose its connections',
          async () => (await s.cluster.nodes[primary]!.tryStatus())?.connectedValidators === 1,
          s.bound,
        );
        await s.waitProgress('commits without the old primary', { nodes: others, blocks: 10 });
        s.cluster.links.healAll();
        await expectRejoined(s, primary, others);
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '10b. one-way loss: nothing the primary sends arrives; the others change view; it rejoins once healed',
    async () => {
      await runScenario({ name: 'one-way-primary-4', validators: 4 }, async (s) => {
        await s.waitProgress('warm-up', { blocks: 10 });
        const { index: primary, view } = await s.cluster.primary();
        const others = s.live().filter((i) => i !== primary);
        const height = await maxHeight(s, others);
        const cutAt = Date.now();
        for (const j of others) s.cluster.links.oneWay(primary, j);
        s.note('viewChangeRecoveryMs', await s.waitNewView(view, height, cutAt, others));
        await s.waitProgress('commits without the old primary', { nodes: others, blocks: 10 });
        // TCP cannot carry one direction alone for long: liveness checks drop the connections, and new
        // handshakes stall. Heal only then, so the old primary has to reconnect.
        await s.cluster.waitUntil(
          'the others to drop the old primary',
          async () =>
            [...(await s.heights(others)).values()].every((x) => x.connectedValidators <= others.length),
          s.bound,
        );
        s.cluster.links.healAll();
        await expectRejoined(s, primary, others);
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '11. flapping links and added delay: safety holds and throughput degrades gracefully',
    async () => {
      await runScenario({ name: 'flapping-4', validators: 4 }, async (s) => {
        const warmStart = Date.now();
        await s.waitProgress('warm-up', { blocks: 20 });
        const baseline = s.load.ackedBetween(warmStart) / ((Date.now() - warmStart) / 1000);
        // Every link gets 40 ms each way; all links of f validators (the primary first) flap on random
        // schedules, so a quorum always remains connected: progress must go on, more slowly.
        const { index: primary } = await s.cluster.primary();
        const flapping = [primary];
        const steady = s.cluster.honest.filter((i) => !flapping.includes(i));
        s.cluster.links.delay(40);
        const pairs = s.cluster.links
          .allPairs()
          .filter(([a, b]) => flapping.includes(a) || flapping.includes(b));
        const flapper = s.cluster.links.flap(pairs, { upMs: [1000, 4000], downMs: [500, 3000] });
        const faultStart = Date.now();
        const heightAtStart = await maxHeight(s, steady);
        await s.cluster.waitUntil('15 link flaps', async () => flapper.downs >= 15, s.bound);
        await s.waitProgress('progress under flapping and delay', { nodes: steady, blocks: 5 });
        const faultSecs = (Date.now() - faultStart) / 1000;
        const during = s.load.ackedBetween(faultStart) / faultSecs;
        expect(await maxHeight(s, steady)).toBeGreaterThan(heightAtStart);
        expect(during).toBeGreaterThan(0);
        s.note('txPerSecBaseline', Number(baseline.toFixed(1)));
        s.note('txPerSecUnderFaults', Number(during.toFixed(1)));
        s.note('flaps', flapper.downs);
      });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
