/** JSON views of dispute cases and case statistics (docs/cases.md). Hashes hex, times ISO-8601 UTC. */
import { toHex } from '../core/bytes.ts';
import type { CaseEvent } from '../core/case.ts';
import type { CaseState } from '../ledger/case-machine.ts';
import { ALL_GROUP, type CaseStats, statsView } from '../ledger/case-stats.ts';

const iso = (ms: number) => new Date(ms).toISOString();

/** A case event as carried in a tx payload. */
export function caseEventView(e: CaseEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (v instanceof Uint8Array) out[k] = toHex(v);
    else if (k === 'coSignature' && v !== undefined) {
      const s = v as { institution: string; keyId: string };
      out[k] = { institution: s.institution, keyId: s.keyId };
    } else out[k] = v;
  }
  return out;
}

export function caseView(c: CaseState): Record<string, unknown> {
  const hex = (h: Uint8Array | undefined) => (h === undefined ? null : toHex(h));
  return {
    caseId: c.caseId,
    status: c.status,
    parties: {
      opener: c.opener,
      respondent: c.respondent,
      mediator: c.mediator ?? null,
      court: c.court ?? null,
      claimantCommitment: toHex(c.claimant),
    },
    sessions: c.sessions,
    milestones: c.milestones,
    agreementHash: hex(c.agreementHash),
    failReason: c.failReason ?? null,
    decision: c.decision ?? null,
    rulingHash: hex(c.rulingHash),
    openedAt: iso(c.events[0]!.time),
    timeline: c.events.map((e) => ({
      event: e.type,
      institution: e.institution,
      txHash: toHex(e.txHash),
      height: e.height,
      index: e.index,
      blockTime: iso(e.time),
    })),
  };
}

/** The chain-wide figures, and the figures per institution and per month (optionally one of each). */
export function caseStatsView(
  stats: CaseStats,
  filter: { institution?: string | undefined; month?: string | undefined } = {},
): Record<string, unknown> {
  const institutions: Record<string, unknown> = {};
  const months: Record<string, unknown> = {};
  for (const [key, counters] of stats.groups()) {
    const [kind, name] = key.split(/:(.*)/s) as [string, string | undefined];
    if (kind === 'institution' && (filter.institution ?? name) === name)
      institutions[name!] = statsView(counters);
    if (kind === 'month' && (filter.month ?? name) === name) months[name!] = statsView(counters);
  }
  const all = stats.group(ALL_GROUP);
  return { all: all === undefined ? null : statsView(all), institutions, months };
}
