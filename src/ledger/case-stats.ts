/**
 * Case statistics (docs/cases.md#statistics), maintained at execution: each included case event updates the
 * counters of the groups it belongs to (the whole chain, the respondent bank, the mediation organisation, and
 * the month of the event's block time), and the block writes the changed groups in its atomic commit. Queries
 * read counters, never scan cases. Mediation time runs from assignment to agreement or failure; its
 * percentiles come from a histogram of 10-minute buckets.
 */

import type { CaseEventType } from '../core/case.ts';
import { decodeExact, expectVersion, type Reader, Writer } from '../core/codec.ts';
import { InvariantError } from '../core/errors.ts';
import type { CaseState } from './case-machine.ts';

export const STATS_BUCKET_MS = 10 * 60 * 1000;
const STATS_VERSION = 1;
const COUNTS = [
  'opened',
  'assigned',
  'agreed',
  'failed',
  'withdrawn',
  'applied',
  'confirmed',
  'refused',
  'closed',
] as const;
type Count = (typeof COUNTS)[number];

export interface StatsCounters {
  counts: Record<Count, number>;
  mediationMsSum: number;
  mediationCount: number;
  /** Mediation times: bucket (ms / STATS_BUCKET_MS, floored) -> cases. */
  histogram: Map<number, number>;
}

const COUNTED: Partial<Record<CaseEventType, Count>> = {
  open: 'opened',
  assign: 'assigned',
  agree: 'agreed',
  fail: 'failed',
  withdraw: 'withdrawn',
  applyConfirmation: 'applied',
  close: 'closed',
};

export const ALL_GROUP = 'all';
export const institutionGroup = (id: string) => `institution:${id}`;
export const monthGroup = (time: number) => `month:${new Date(time).toISOString().slice(0, 7)}`;

function emptyCounters(): StatsCounters {
  const counts = Object.fromEntries(COUNTS.map((c) => [c, 0])) as Record<Count, number>;
  return { counts, mediationMsSum: 0, mediationCount: 0, histogram: new Map() };
}

export class CaseStats {
  readonly #groups: Map<string, StatsCounters>;
  /** Groups changed since this copy was made: what the next block writes. */
  readonly #changed = new Set<string>();

  constructor(groups: Map<string, StatsCounters> = new Map()) {
    this.#groups = groups;
  }

  static decode(entries: readonly (readonly [string, Uint8Array])[]): CaseStats {
    return new CaseStats(new Map(entries.map(([k, v]) => [k, decodeCounters(v)])));
  }

  /** A copy for one block's events; unchanged groups are shared, changed ones copied on write. */
  clone(): CaseStats {
    return new CaseStats(new Map(this.#groups));
  }

  group(key: string): StatsCounters | undefined {
    return this.#groups.get(key);
  }

  groups(): ReadonlyMap<string, StatsCounters> {
    return this.#groups;
  }

  /** Counts one included event: `after` is the case's state once the event applied, at block time `time`. */
  record(type: CaseEventType, after: CaseState, time: number): void {
    const count: Count | undefined =
      type === 'decide' ? (after.decision === 'confirmed' ? 'confirmed' : 'refused') : COUNTED[type];
    if (count === undefined) return;
    const keys = new Set([ALL_GROUP, institutionGroup(after.respondent), monthGroup(time)]);
    if (after.mediator !== undefined) keys.add(institutionGroup(after.mediator));
    const assigned = after.events.find((e) => e.type === 'assign');
    const mediationMs = (type === 'agree' || type === 'fail') && assigned ? time - assigned.time : undefined;
    for (const key of keys) {
      const c = this.#writable(key);
      c.counts[count]++;
      if (mediationMs === undefined) continue;
      c.mediationMsSum += mediationMs;
      c.mediationCount++;
      const bucket = Math.floor(mediationMs / STATS_BUCKET_MS);
      c.histogram.set(bucket, (c.histogram.get(bucket) ?? 0) + 1);
    }
  }

  #writable(key: string): StatsCounters {
    const old = this.#groups.get(key);
    if (this.#changed.has(key) && old !== undefined) return old;
    const c = old === undefined ? emptyCounters() : copyCounters(old);
    this.#groups.set(key, c);
    this.#changed.add(key);
    return c;
  }

  /** The encoded groups this copy changed, in key order. */
  changedEntries(): [string, Uint8Array][] {
    return [...this.#changed].sort().map((k) => [k, encodeCounters(this.#groups.get(k)!)]);
  }
}

function copyCounters(c: StatsCounters): StatsCounters {
  return { ...c, counts: { ...c.counts }, histogram: new Map(c.histogram) };
}

export function encodeCounters(c: StatsCounters): Uint8Array {
  const w = new Writer(64 + c.histogram.size * 6).u8(STATS_VERSION);
  for (const k of COUNTS) w.varint(c.counts[k]);
  w.varint(c.mediationMsSum).varint(c.mediationCount).varint(c.histogram.size);
  for (const [b, n] of [...c.histogram].sort((x, y) => x[0] - y[0])) w.varint(b).varint(n);
  return w.finish();
}

function readCounters(r: Reader): StatsCounters {
  expectVersion(r, STATS_VERSION, 'case stats');
  const c = emptyCounters();
  for (const k of COUNTS) c.counts[k] = r.varint(k);
  c.mediationMsSum = r.varint('mediation sum');
  c.mediationCount = r.varint('mediation count');
  const n = r.varint('histogram');
  for (let i = 0; i < n; i++) c.histogram.set(r.varint('bucket'), r.varint('count'));
  return c;
}

export function decodeCounters(bytes: Uint8Array): StatsCounters {
  try {
    return decodeExact(bytes, 16 * 1024 * 1024, 'case stats', readCounters);
  } catch (err) {
    throw new InvariantError(`stored case stats do not decode: ${(err as Error).message}`);
  }
}

const HOUR_MS = 3_600_000;

/** The smallest bucket upper bound (in hours) under which at least `q` of the mediation times fall. */
export function percentileHours(c: StatsCounters, q: number): number | undefined {
  if (c.mediationCount === 0) return undefined;
  const need = Math.ceil(q * c.mediationCount);
  let seen = 0;
  for (const [b, n] of [...c.histogram].sort((x, y) => x[0] - y[0])) {
    seen += n;
    if (seen >= need) return ((b + 1) * STATS_BUCKET_MS) / HOUR_MS;
  }
  return undefined;
}

/** The figures of one group, as the API serves them. */
export function statsView(c: StatsCounters): Record<string, unknown> {
  const { counts } = c;
  const mediated = counts.agreed + counts.failed;
  const avg = c.mediationCount === 0 ? undefined : c.mediationMsSum / c.mediationCount / HOUR_MS;
  return {
    ...counts,
    mediated,
    successRate: mediated === 0 ? null : counts.agreed / mediated,
    judicialConfirmations: counts.confirmed,
    mediationHours: {
      average: avg ?? null,
      p50: percentileHours(c, 0.5) ?? null,
      p90: percentileHours(c, 0.9) ?? null,
      p99: percentileHours(c, 0.99) ?? null,
    },
  };
}
