/**
 * Who may read what (ADR 009, docs/security.md): the authorisation rules over an authenticated caller, and the
 * guard the routes call. A bank reads the cases it opened or answers; a mediator the cases assigned to it (or
 * that it opened); a court the cases whose confirmation was applied for to it; a regulator statistics, and with
 * a governance grant (ADR 011) every case record and the audit log.
 */
import { ExitCode, exitCodes } from '../core/errors.ts';
import type { CaseState } from '../ledger/case-machine.ts';
import type { AuditEvent, AuditLog } from './audit.ts';
import { Authenticator, type Caller } from './auth.ts';
import { ApiError, type ApiRequest } from './http.ts';

export const AccessErrorCode = {
  /** The caller's role may not use this route at all (a regulator reading a case). */
  role: 'FORBIDDEN_ROLE',
  /** The caller is not a party of this case in a role that may read it. */
  notParty: 'FORBIDDEN_NOT_PARTY',
  /** A regulator reads audit logs and case records only with a governance grant (setAuditAccess, ADR 011). */
  auditNotGranted: 'FORBIDDEN_AUDIT_NOT_GRANTED',
} as const;
export const AccessErrorExit = exitCodes(AccessErrorCode, {
  role: ExitCode.failed,
  notParty: ExitCode.failed,
  auditNotGranted: ExitCode.failed,
});

/** Whether `caller` may read case `c`; `granted`: the caller is a regulator with audit access. */
export function mayReadCase(caller: Caller, c: CaseState, granted = false): boolean {
  const me = caller.institution;
  switch (caller.role) {
    case 'bank':
      return c.respondent === me || c.opener === me;
    case 'mediator':
      return c.mediator === me || c.opener === me;
    case 'court':
      return c.court === me;
    case 'regulator':
      return granted;
  }
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export function isLoopbackAddress(addr: string): boolean {
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/** Whether an API bind host keeps the API on this machine (the node warns loudly otherwise). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host);
}

export class AccessGuard {
  readonly #auth: Authenticator;
  readonly audit: AuditLog;
  /** Whether governance granted this institution (a regulator) audit access, as of the head. */
  readonly auditGranted: (institution: string) => boolean;

  constructor(
    auth: Authenticator,
    audit: AuditLog,
    auditGranted: (institution: string) => boolean = () => false,
  ) {
    this.#auth = auth;
    this.audit = audit;
    this.auditGranted = auditGranted;
  }

  /**
   * The authenticated caller (401 otherwise); `forbid` lists roles refused with 403, except a regulator
   * granted audit access, who reads what parties read.
   */
  caller(req: ApiRequest, forbid: Caller['role'][] = []): Caller {
    const c = this.#auth.authenticate(req);
    if (forbid.includes(c.role) && !(c.role === 'regulator' && this.auditGranted(c.institution)))
      throw new ApiError(403, AccessErrorCode.role, `a ${c.role} may not use ${req.path}`);
    return c;
  }

  /** Whether `caller` may read `c` (a party, or a regulator granted audit access). */
  mayRead(caller: Caller, c: CaseState): boolean {
    return mayReadCase(caller, c, caller.role === 'regulator' && this.auditGranted(caller.institution));
  }

  /** The case read check: 403 unless `caller` may read `c`. */
  requireParty(caller: Caller, c: CaseState): void {
    if (!this.mayRead(caller, c))
      throw new ApiError(
        403,
        AccessErrorCode.notParty,
        `${caller.institution} (${caller.role}) is not a party that may read case ${c.caseId}`,
      );
  }

  /**
   * Raw chain reads (blocks, txs) carry case data in clear: a loopback caller (the validator's own operator,
   * who holds the replica anyway) reads them freely; anyone else must authenticate as a member that is not a
   * regulator. A signed request is always verified, so a bad signature is never silently ignored.
   */
  chainReader(req: ApiRequest): void {
    if (!Authenticator.present(req) && isLoopbackAddress(req.remoteAddress)) return;
    this.caller(req, ['regulator']);
  }

  record(caller: Caller, action: string, caseIds: (string | null)[]): void {
    const events: AuditEvent[] = caseIds.map((caseId) => ({
      institution: caller.institution,
      keyId: caller.keyId,
      action,
      caseId,
    }));
    this.audit.append(...events);
  }
}
