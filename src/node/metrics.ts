/**
 * Prometheus metrics (prom-client), one registry per node so that several nodes can share a process in
 * tests. Components get narrow hooks (a MetricsSink for p2p counters, plain setters for gauges) rather than
 * the registry itself.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsSink } from '../p2p/metrics.ts';

export class NodeMetrics implements MetricsSink {
  readonly registry = new Registry();
  readonly height = new Gauge({
    name: 'jrchain_height',
    help: 'Height of the last committed block',
    registers: [this.registry],
  });
  readonly view = new Gauge({ name: 'jrchain_view', help: 'Current PBFT view', registers: [this.registry] });
  readonly viewChanges = new Counter({
    name: 'jrchain_view_changes_total',
    help: 'Views this node moved to after its first',
    registers: [this.registry],
  });
  readonly commitLatency = new Histogram({
    name: 'jrchain_commit_latency_seconds',
    help: 'Time from a tx reaching this node to its block being committed here',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly txPool = new Gauge({
    name: 'jrchain_tx_pool_size',
    help: 'Txs admitted and not yet committed',
    registers: [this.registry],
  });
  readonly peers = new Gauge({
    name: 'jrchain_peers',
    help: 'Connected validator and observer peers',
    registers: [this.registry],
  });
  readonly committedTxs = new Counter({
    name: 'jrchain_committed_txs_total',
    help: 'Txs committed to the ledger by type',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly rejectedTxs = new Counter({
    name: 'jrchain_rejected_txs_total',
    help: 'Txs refused at admission or execution, by code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly consensusDrops = new Counter({
    name: 'jrchain_consensus_drops_total',
    help: 'Consensus inputs dropped, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly anchorLagBlocks = new Gauge({
    name: 'jrchain_anchor_lag_blocks',
    help: 'Blocks committed after the last block covered by an RFC 3161 anchor',
    registers: [this.registry],
  });
  readonly anchorLagSeconds = new Gauge({
    name: 'jrchain_anchor_lag_seconds',
    help: 'Age of the oldest block not yet covered by an RFC 3161 anchor',
    registers: [this.registry],
  });
  readonly syncing = new Gauge({
    name: 'jrchain_syncing',
    help: '1 while catching up from peers',
    registers: [this.registry],
  });
  readonly syncTarget = new Gauge({
    name: 'jrchain_sync_target_height',
    help: 'Height state sync is fetching up to',
    registers: [this.registry],
  });
  readonly syncedBlocks = new Counter({
    name: 'jrchain_synced_blocks_total',
    help: 'Blocks fetched from peers and committed by state sync',
    registers: [this.registry],
  });
  readonly syncedTxs = new Counter({
    name: 'jrchain_synced_txs_total',
    help: 'Txs in blocks committed by state sync',
    registers: [this.registry],
  });
  readonly syncBlocksPerSecond = new Gauge({
    name: 'jrchain_sync_blocks_per_second',
    help: 'Blocks stored per second by the current (or last) state sync',
    registers: [this.registry],
  });
  readonly syncTxsPerSecond = new Gauge({
    name: 'jrchain_sync_txs_per_second',
    help: 'Txs stored per second by the current (or last) state sync',
    registers: [this.registry],
  });
  readonly syncFaults = new Counter({
    name: 'jrchain_sync_faults_total',
    help: 'Sync data refused from peers (forged or inconsistent blocks, certificates, responses), by code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly dynamic = new Map<string, Counter>();

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'jrchain_process_' });
  }

  /** MetricsSink for components that count by name (p2p): one counter per name, created on first use. */
  increment(name: string, labels: Readonly<Record<string, string>>, by = 1): void {
    let c = this.dynamic.get(name);
    if (c === undefined) {
      c = new Counter({
        name,
        help: `${name} (see docs/p2p.md)`,
        labelNames: Object.keys(labels),
        registers: [this.registry],
      });
      this.dynamic.set(name, c);
    }
    try {
      c.inc(labels, by);
    } catch {
      // A label set that differs from the counter's first use is a bug in the caller; metrics never crash.
    }
  }

  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
