/**
 * Cluster faults on processes: crashes (SIGKILL), pauses (SIGSTOP/SIGCONT), graceful restarts and wiped data
 * directories, on four validators under load (`npm run test:cluster`). Every scenario ends with the invariant
 * check after healing (harness/scenario.ts `finish`).
 */
import { describe, expect, it } from 'vitest';
import { runScenario, type Scenario } from '../harness/scenario.ts';

const SCENARIO_TIMEOUT_MS = 10 * 60_000;

async function maxHeight(s: Scenario, nodes = s.live()): Promise<number> {
  return Math.max(...[...(await s.heights(nodes)).values()].map((x) => x.height));
}

describe('cluster faults on processes, 4 validators', () => {
  it(
    '2. a backup is SIGKILLed under load and restarted: it catches up and validates again',
    async () => {
      await runScenario({ name: 'backup-kill-4', validators: 4 }, async (s) => {
        await s.waitProgress('warm-up', { blocks: 10 });
        const { index: primary } = await s.cluster.primary();
        const backup = (primary + 2) % s.cluster.n;
        await s.cluster.kill(backup);
        // At most f down: the others go on, and leave it more than a watermark window (64) behind.
        s.note(
          'progressWithoutBackupMs',
          await s.waitProgress('progress without the backup', { blocks: 80 }),
        );
        const restartedAt = await maxHeight(s);
        await s.cluster.startNode(backup);
        s.note('catchUpMs', await s.waitCaughtUp(backup));
        s.note('validatesMs', await s.waitValidates(backup, restartedAt));
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '4. f+1 validators down: no progress and no fork; once restored, progress within the bound',
    async () => {
      await runScenario({ name: 'f-plus-1-down-4', validators: 4 }, async (s) => {
        await s.waitProgress('warm-up', { blocks: 10 });
        const { index: primary } = await s.cluster.primary();
        const down = [primary, (primary + 1) % s.cluster.n];
        await Promise.all(down.map((i) => s.cluster.kill(i)));
        await s.expectStalled(s.live());
        await Promise.all(down.map((i) => s.cluster.startNode(i)));
        s.note('recoveryAfterRestoreMs', await s.waitProgress('progress after the restore', { count: s.q }));
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '5. the primary is paused past its timeout, then resumed: it rejoins in the new view',
    async () => {
      await runScenario({ name: 'primary-pause-4', validators: 4 }, async (s) => {
        await s.waitProgress('warm-up', { blocks: 10 });
        const { index: primary, view } = await s.cluster.primary();
        const others = s.live().filter((i) => i !== primary);
        const height = await maxHeight(s, others);
        const pausedAt = Date.now();
        s.cluster.nodes[primary]!.pause();
        s.note('viewChangeRecoveryMs', await s.waitNewView(view, height, pausedAt, others));
        // Paused long enough for the others' liveness checks to drop its silent connections.
        await s.cluster.waitUntil(
          'the others to drop the paused primary',
          async () => [...(await s.heights(others)).values()].every((x) => x.connectedValidators <= 3),
          s.bound,
        );
        const newView = Math.max(...[...(await s.heights(others)).values()].map((x) => x.view));
        const resumedAt = Date.now();
        const resumeHeight = await maxHeight(s, others);
        s.cluster.nodes[primary]!.resume();
        await s.cluster.waitUntil(
          'the old primary to join the new view',
          async () => {
            const st = await s.cluster.nodes[primary]!.tryStatus();
            return st !== undefined && st.view >= newView && st.consensus === 'normal';
          },
          s.bound,
        );
        s.note('rejoinMs', Date.now() - resumedAt);
        await s.waitCaughtUp(primary);
        s.note('validatesMs', await s.waitValidates(primary, resumeHeight));
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '6. a rolling restart of every validator, primary last',
    async () => {
      await runScenario({ name: 'rolling-restart-4', validators: 4 }, async (s) => {
        await s.waitProgress('warm-up', { blocks: 10 });
        const { index: primary } = await s.cluster.primary();
        const order = [...s.cluster.honest.filter((i) => i !== primary), primary];
        const restarts: number[] = [];
        for (const i of order) {
          const t = Date.now();
          await s.cluster.stop(i);
          await s.waitProgress(`progress while ${s.cluster.nodes[i]!.institution} is down`, { blocks: 3 });
          const height = await maxHeight(s);
          await s.cluster.startNode(i);
          await s.waitCaughtUp(i);
          await s.waitValidates(i, height);
          restarts.push(Date.now() - t);
        }
        s.note('restartMs', restarts);
        expect((await s.cluster.primary()).index).not.toBe(primary);
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '7. every validator is SIGKILLed at once under load: after the restart no acknowledged tx is lost',
    async () => {
      await runScenario({ name: 'all-kill-4', validators: 4 }, async (s) => {
        await s.cluster.waitUntil('40 acknowledged txs', async () => s.load.acked.size >= 40, s.bound);
        await Promise.all(s.cluster.honest.map((i) => s.cluster.kill(i)));
        s.note('ackedBeforeCrash', s.load.acked.size);
        const restartedAt = Date.now();
        await Promise.all(s.cluster.honest.map((i) => s.cluster.startNode(i)));
        await s.waitProgress('progress after the restart');
        s.note('recoveryAfterRestartMs', Date.now() - restartedAt);
      });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '8. a validator data dir is wiped: it resyncs from its peers and validates again',
    async () => {
      await runScenario({ name: 'wipe-4', validators: 4 }, async (s) => {
        // Past a few checkpoints (K = 16), so the peers' stable checkpoints have moved.
        await s.waitProgress('warm-up', { blocks: 70 });
        const { index: primary } = await s.cluster.primary();
        const victim = (primary + 1) % s.cluster.n;
        await s.cluster.kill(victim);
        s.cluster.nodes[victim]!.wipe();
        const height = await maxHeight(s);
        await s.cluster.startNode(victim);
        s.note('resyncMs', await s.waitCaughtUp(victim));
        s.note('validatesMs', await s.waitValidates(victim, height));
      });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
