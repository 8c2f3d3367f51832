/** The validator's telemetry on its own: the commit feed, throttled equivocation logs, the first fatal error. */
import { describe, expect, it } from 'vitest';
import { DropReason } from '../../../src/consensus/errors.ts';
import { genesisValidatorSet } from '../../../src/core/genesis.ts';
import { NodeMetrics } from '../../../src/node/metrics.ts';
import {
  type CommitEvent,
  type TelemetrySources,
  ValidatorTelemetry,
} from '../../../src/node/validator-telemetry.ts';
import { ManualClock } from '../../helpers/consensus-doubles.ts';
import { genesis } from '../../helpers/ledger.ts';
import { RecordingLogger } from '../../helpers/p2p.ts';
import { batchesOf, syncSource } from '../../helpers/sync-source.ts';

function telemetry() {
  const clock = new ManualClock(1_000_000);
  const logger = new RecordingLogger();
  const metrics = new NodeMetrics();
  return { clock, logger, metrics, t: new ValidatorTelemetry(metrics, logger, clock) };
}

async function counter(metrics: NodeMetrics, name: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.reduce((sum, v) => sum + v.value, 0) ?? Number.NaN;
}

describe('ValidatorTelemetry', () => {
  it('feeds each stored block to the components first, then to listeners; a failing listener is logged', async () => {
    const { t, logger, metrics } = telemetry();
    const { blocks } = await syncSource(batchesOf(2));
    const [first, second] = [blocks[0]!, blocks[1]!];
    const order: string[] = [];
    const events: CommitEvent[] = [];
    t.onStored((block, source) => order.push(`component ${block.header.height} ${source}`));
    t.onCommit(() => {
      order.push('failing listener');
      throw new Error('listener bug');
    });
    const unsubscribe = t.onCommit((e) => {
      order.push('listener');
      events.push(e);
    });
    t.stored(first, 'consensus');
    unsubscribe();
    t.stored(second, 'sync');
    expect(order).toEqual([
      'component 1 consensus',
      'failing listener',
      'listener',
      'component 2 sync',
      'failing listener',
    ]);
    expect(events).toEqual([
      {
        height: 1,
        hash: first.hash,
        txHashes: first.txs.map((x) => x.hash),
        time: first.header.time,
        source: 'consensus',
      },
    ]);
    expect(logger.find('commit listener failed')).toHaveLength(2);
    expect(await counter(metrics, 'jrchain_committed_txs_total')).toBe(first.txs.length + second.txs.length);
    expect(await counter(metrics, 'jrchain_synced_blocks_total')).toBe(1);
  });

  it('logs equivocations at most once a second, counting the ones it left out', () => {
    const { t, logger, clock } = telemetry();
    const lines = () => logger.find('equivocated').map((e) => e.fields.alsoSinceLastLine);
    t.coreDrop(DropReason.equivocation, 'first');
    t.coreDrop(DropReason.equivocation, 'second');
    t.coreDrop(DropReason.duplicate, 'not an equivocation');
    clock.t += 999;
    t.coreDrop(DropReason.equivocation, 'third');
    expect(lines()).toEqual([0]);
    clock.t += 1;
    t.coreDrop(DropReason.equivocation, 'fourth');
    expect(lines()).toEqual([0, 2]);
  });

  it('reports the first fatal error, and edge and core drops together, in the status', () => {
    const { t, logger } = telemetry();
    t.fatal('consensus', new Error('disk full'));
    t.fatal('sync', new Error('later'));
    expect(logger.find('restart the node')).toHaveLength(2);
    t.edgeDrop('badSignature');
    t.edgeDrop('badSignature');
    const g = genesis();
    const sources = {
      genesis: g,
      chain: { head: () => ({ height: 3, hash: new Uint8Array(32), time: 0 }) },
      host: { peers: () => [] },
      peers: {},
      sync: { progress: () => ({ state: 'idle' }) },
      mempool: { size: 7 },
      resolver: { stats: () => ({ resolved: 9, fetches: 2, fetchedTxs: 5 }) },
      driver: {
        drops: () =>
          new Map([
            [DropReason.badSignature, 1],
            [DropReason.duplicate, 4],
          ]),
        currentEpoch: () => ({ epoch: 0, member: false }),
      },
      membership: { set: genesisValidatorSet(g), self: 1 },
    } as unknown as TelemetrySources;
    expect(t.status(sources, false)).toMatchObject({
      height: 3,
      view: 0,
      isPrimary: false,
      quorum: 3,
      pendingTxs: 7,
      drops: { badSignature: 3, duplicate: 4 },
      prePrepareTxs: { resolved: 9, fetches: 2, fetchedTxs: 5 },
      suspicions: { stall: 0, censorship: 0 },
      fatal: 'consensus: disk full',
    });
  });
});
