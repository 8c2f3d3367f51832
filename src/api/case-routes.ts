/**
 * Dispute cases, their statistics and the audit log over HTTP (docs/api.md, docs/cases.md). Every route here
 * needs a signed request (auth.ts) and checks the caller's role and party (access.ts); each authorised read of
 * case data is appended to the audit log before the answer goes out.
 */

import { isCaseRef, openLabel } from '../core/case-seal.ts';
import { isJrError } from '../core/errors.ts';
import type { Genesis } from '../core/genesis.ts';
import type { LedgerQueries } from '../ledger/queries.ts';
import { caseReceiptFor } from '../receipt/case-receipt.ts';
import { AccessErrorCode, type AccessGuard } from './access.ts';
import type { Caller } from './auth.ts';
import { caseStatsView, caseView } from './case-views.ts';
import { ApiError, type Route } from './http.ts';
import { badRequest, ledgerCall, pageParams } from './params.ts';
import { recordView } from './views.ts';

/** Most audit entries one GET /v1/audit returns (the newest). */
export const MAX_AUDIT_ENTRIES = 1000;

/**
 * The node's own case-key store (ADR 011), when its home has one: sealed cases of the node's institution are
 * then served to that institution with their id and labels opened, and may be asked for by the id in clear.
 */
export interface CaseKeyLookup {
  /** The institution the store belongs to (the node's own). */
  readonly institution: string;
  byRef(ref: string): { caseId: string; key: Uint8Array } | undefined;
  byCaseId(caseId: string): { ref: string } | undefined;
}

/** What the case routes read: the ledger and the genesis, and the node's case-key store if it has one. */
export interface CaseBackend {
  readonly genesis: Genesis;
  readonly queries: LedgerQueries;
  readonly caseKeys?: CaseKeyLookup | undefined;
}

/** The store to open cases with for `caller`: only the node's own institution's, and only to itself. */
function ownStore(b: CaseBackend, caller: Caller): CaseKeyLookup | undefined {
  return b.caseKeys !== undefined && b.caseKeys.institution === caller.institution ? b.caseKeys : undefined;
}

/** Evidence views with sealed labels opened under the case key (a label that does not open stays sealed). */
function openedRecords(views: Record<string, unknown>[], ref: string, key: Uint8Array): void {
  for (const v of views) {
    const e = v.evidence as { label?: string; labelSealed?: boolean };
    if (e.label === undefined) continue;
    try {
      const label = openLabel(key, ref, e.label);
      if (label !== undefined) Object.assign(e, { label, labelSealed: true });
    } catch (err) {
      if (!isJrError(err)) throw err;
    }
  }
}

function caseReadRoutes(b: CaseBackend, g: AccessGuard): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/cases',
      handler: async (req) => {
        const caller = g.caller(req, ['regulator']);
        const page = await ledgerCall(() => b.queries.cases(pageParams(req.query)));
        // A page keeps its cursor but shows only the caller's cases, so it may be shorter than the limit.
        const mine = page.items.filter((c) => g.mayRead(caller, c));
        g.record(
          caller,
          'case.list',
          mine.map((c) => c.caseId),
        );
        return { json: { cases: mine.map(caseView), next: page.next ?? null } };
      },
    },
    {
      method: 'GET',
      path: '/v1/cases/:caseId',
      handler: async (req) => {
        const caller = g.caller(req, ['regulator']);
        const own = ownStore(b, caller);
        // The node's own institution may name its sealed case by the id in clear; everyone else by reference.
        const caseId = own?.byCaseId(req.params.caseId!)?.ref ?? req.params.caseId!;
        // Both reads at once: one wait for the store instead of two in a row.
        const [state, page] = await Promise.all([
          ledgerCall(() => b.queries.case(caseId)),
          ledgerCall(() => b.queries.evidenceByCase(caseId, pageParams(req.query))),
        ]);
        if (state !== undefined) g.requireParty(caller, state);
        // Without a case tx nobody is a party: the caller sees only the evidence it recorded itself.
        const records =
          state === undefined
            ? page.items.filter((e) => e.env.tx.institution === caller.institution)
            : page.items;
        if (state !== undefined || records.length > 0) g.record(caller, 'case.read', [caseId]);
        const views = records.map(recordView);
        const opened = isCaseRef(caseId) ? own?.byRef(caseId) : undefined;
        if (opened !== undefined) openedRecords(views, caseId, opened.key);
        return {
          json: {
            caseId,
            ...(opened === undefined ? {} : { clear: { caseId: opened.caseId } }),
            case: state === undefined ? null : caseView(state),
            records: views,
            next: page.next ?? null,
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/cases/:caseId/receipt',
      handler: async (req) => {
        const caller = g.caller(req, ['regulator']);
        const caseId = req.params.caseId!;
        const state = await ledgerCall(() => b.queries.case(caseId));
        if (state === undefined) throw new ApiError(404, 'NOT_FOUND', `no case ${caseId}`);
        g.requireParty(caller, state);
        const receipt = await ledgerCall(() => caseReceiptFor(b.queries, b.genesis, caseId));
        g.record(caller, 'case.receipt', [caseId]);
        return { json: receipt };
      },
    },
  ];
}

function statsAndAuditRoutes(b: CaseBackend, g: AccessGuard): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/stats',
      handler: async (req) => {
        const caller = g.caller(req);
        const month = req.query.get('month') ?? undefined;
        if (month !== undefined && !/^\d{4}-\d\d$/.test(month))
          throw badRequest('BAD_MONTH', 'month must be YYYY-MM');
        // A regulator sees every institution's figures; a party sees the totals and its own figures only.
        let institution = req.query.get('institution') ?? undefined;
        if (caller.role !== 'regulator') {
          if (institution !== undefined && institution !== caller.institution)
            throw new ApiError(
              403,
              AccessErrorCode.role,
              `only a regulator reads another institution's figures`,
            );
          institution = caller.institution;
        }
        const stats = await b.queries.caseStats();
        g.record(caller, 'stats.read', [null]);
        return { json: { height: b.queries.head().height, ...caseStatsView(stats, { institution, month }) } };
      },
    },
    {
      method: 'GET',
      path: '/v1/audit',
      handler: async (req) => {
        const caller = g.caller(req);
        const auditor = caller.role === 'regulator';
        if (auditor && !g.auditGranted(caller.institution))
          throw new ApiError(
            403,
            AccessErrorCode.auditNotGranted,
            `${caller.institution} has no audit access: governance grants it (gov propose grant-audit)`,
          );
        const caseId = req.query.get('case') ?? undefined;
        if (caseId !== undefined) {
          const state = await ledgerCall(() => b.queries.case(caseId));
          if (state === undefined) throw new ApiError(404, 'NOT_FOUND', `no case ${caseId}`);
          g.requireParty(caller, state);
        }
        // Reads of a case the caller may read; without ?case=, a party's own reads, a granted regulator's all.
        const entries = g.audit
          .entries()
          .filter((e) =>
            caseId !== undefined ? e.caseId === caseId : auditor || e.institution === caller.institution,
          )
          .slice(-MAX_AUDIT_ENTRIES);
        g.record(caller, 'audit.read', [caseId ?? null]);
        return { json: { entries } };
      },
    },
  ];
}

export function caseRoutes(b: CaseBackend, g: AccessGuard): Route[] {
  return [...caseReadRoutes(b, g), ...statsAndAuditRoutes(b, g)];
}
