import { describe, expect, it } from 'vitest';
import { NodeMetrics } from '../../../src/node/metrics.ts';

describe('NodeMetrics', () => {
  it('renders gauges, counters and dynamic p2p counters in Prometheus text format', async () => {
    const m = new NodeMetrics();
    m.height.set(42);
    m.rejectedTxs.inc({ code: 'TX_EXPIRED' });
    m.increment('p2p_frames_dropped_total', { protocol: '/jrchain/consensus/1.0.0', reason: 'oversize' }, 2);
    m.increment('p2p_frames_dropped_total', { protocol: '/jrchain/consensus/1.0.0', reason: 'oversize' });
    const { contentType, text } = await m.render();
    expect(contentType).toMatch(/text\/plain/);
    expect(text).toMatch(/^jrchain_height 42$/m);
    expect(text).toMatch(/^jrchain_rejected_txs_total\{code="TX_EXPIRED"\} 1$/m);
    expect(text).toMatch(
      /^p2p_frames_dropped_total\{protocol="\/jrchain\/consensus\/1.0.0",reason="oversize"\} 3$/m,
    );
  });

  it('two nodes in one process keep separate registries', async () => {
    const a = new NodeMetrics();
    const b = new NodeMetrics();
    a.height.set(1);
    b.height.set(2);
    expect((await a.render()).text).toMatch(/^jrchain_height 1$/m);
    expect((await b.render()).text).toMatch(/^jrchain_height 2$/m);
  });

  it('a caller using inconsistent labels does not crash the node', () => {
    const m = new NodeMetrics();
    m.increment('p2p_bans_total', {});
    expect(() => m.increment('p2p_bans_total', { unexpected: 'x' })).not.toThrow();
  });
});
