/** The verifier's named checks and how a check reports failure. */

/** Every check, in the order it runs. The names are stable: tests, the CLI and callers match on them. */
export const CHECKS = [
  'decode',
  'status',
  'contentType',
  'messageImprint',
  'nonce',
  'policy',
  'signerInfo',
  'signerCert',
  'signedAttrs',
  'messageDigest',
  'essSigningCertificate',
  'signature',
  'eku',
  'keyUsage',
  'tsaName',
  'chain',
  'certValidity',
] as const;
export type CheckName = (typeof CHECKS)[number];

export interface CheckOutcome {
  name: CheckName;
  status: 'pass' | 'fail' | 'skip';
  detail?: string;
}

/** Thrown by a failing check; the verifier turns it into its result. Never escapes the verifier. */
export class CheckFailed extends Error {
  readonly check: CheckName;
  readonly reason: string;

  constructor(check: CheckName, reason: string) {
    super(reason);
    this.check = check;
    this.reason = reason;
  }
}

export function fail(check: CheckName, reason: string): never {
  throw new CheckFailed(check, reason);
}
