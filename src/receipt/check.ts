/**
 * How a receipt check reports. Each check is one function that returns a `CheckResult` (pass with a value,
 * skip, or fail with a `ReceiptFailureCode`) and never throws: `evaluate` turns a rejection, a decoder's
 * JrError or any other exception into a failure. `CheckRun` records outcomes in order and stops at the first
 * failure. Both are generic over the check names, so other receipt kinds can reuse them with their own list.
 */
import { JrError } from '../core/errors.ts';
import { ReceiptFailureCode as Failure, type ReceiptFailureCode } from './errors.ts';

/** The checks of an evidence receipt. The values are stable: the CLI's JSON, tests and callers match on them. */
export const ReceiptCheck = {
  format: 'format',
  genesis: 'genesis',
  header: 'header',
  governance: 'governance',
  validatorSet: 'validatorSet',
  certificate: 'certificate',
  tx: 'tx',
  signature: 'signature',
  inclusion: 'inclusion',
  evidence: 'evidence',
  file: 'file',
  anchor: 'anchor',
  archive: 'archive',
  evidenceToken: 'evidenceToken',
  summary: 'summary',
} as const;
export type ReceiptCheck = (typeof ReceiptCheck)[keyof typeof ReceiptCheck];

/** The order `verifyReceipt` runs the checks in (docs/receipts.md): each may use what those before it proved. */
export const RECEIPT_CHECK_ORDER: readonly ReceiptCheck[] = Object.values(ReceiptCheck);

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckPass<T> {
  status: 'pass';
  value: T;
  detail: string;
}
export interface CheckSkip {
  status: 'skip';
  detail: string;
}
export interface CheckFail {
  status: 'fail';
  code: ReceiptFailureCode;
  detail: string;
}
/** What a check function returns: pass with a value, or fail with a code. */
export type CheckResult<T> = CheckPass<T> | CheckFail;
/** What a check that may have nothing to check returns. */
export type OptionalCheckResult<T> = CheckResult<T> | CheckSkip;

/** One recorded check, as `verifyReceipt` reports it (and the CLI prints it). */
export interface CheckOutcome<N extends string = ReceiptCheck> {
  name: N;
  status: CheckStatus;
  detail: string;
  /** Set when status is `fail`. */
  code?: ReceiptFailureCode;
}

export function passed<T>(value: T, detail: string): CheckPass<T> {
  return { status: 'pass', value, detail };
}

export function skipped(detail: string): CheckSkip {
  return { status: 'skip', detail };
}

export function failed(code: ReceiptFailureCode, detail: string): CheckFail {
  return { status: 'fail', code, detail };
}

/** Ends a check from deep inside its helpers; `evaluate` turns it into the check's failure. */
export class CheckRejection extends Error {
  readonly code: ReceiptFailureCode;
  constructor(code: ReceiptFailureCode, detail: string) {
    super(detail);
    this.code = code;
  }
}

export function reject(code: ReceiptFailureCode, detail: string): never {
  throw new CheckRejection(code, detail);
}

/**
 * Runs a check body and returns its result, never throwing. A rejection keeps its code; a JrError (a decoder
 * refusing bytes, a certificate that does not verify) is `malformed` unless `codeOf` says otherwise; anything
 * else is `unexpected`, which only a verifier bug can cause (a fuzzer counts those).
 */
export function evaluate<T>(
  body: () => CheckPass<T>,
  codeOf: (err: JrError) => ReceiptFailureCode = () => Failure.malformed,
): CheckResult<T> {
  try {
    return body();
  } catch (err) {
    return failureOf(err, codeOf);
  }
}

/** `evaluate` for a check that awaits (the RFC 3161 ones, whose signatures WebCrypto checks). */
export async function evaluateAsync<T>(
  body: () => Promise<CheckPass<T>>,
  codeOf: (err: JrError) => ReceiptFailureCode = () => Failure.malformed,
): Promise<CheckResult<T>> {
  try {
    return await body();
  } catch (err) {
    return failureOf(err, codeOf);
  }
}

function failureOf(err: unknown, codeOf: (err: JrError) => ReceiptFailureCode): CheckFail {
  if (err instanceof CheckRejection) return failed(err.code, err.message);
  if (err instanceof JrError) return failed(codeOf(err), err.message);
  const what = err instanceof Error ? `${err.name}: ${err.message}` : 'a thrown non-Error value';
  return failed(Failure.unexpected, `unexpected ${what}`);
}

/** Records outcomes in order; after a failure, `ok` is false and callers stop. */
export class CheckRun<N extends string = ReceiptCheck> {
  readonly outcomes: CheckOutcome<N>[] = [];

  get ok(): boolean {
    return this.outcomes.every((o) => o.status !== 'fail');
  }

  /** Records `result` under `name`; false when it failed, so the caller stops (and else may use its value). */
  record<R extends OptionalCheckResult<unknown>>(name: N, result: R): result is Exclude<R, CheckFail> {
    this.outcomes.push(
      result.status === 'fail'
        ? { name, status: 'fail', detail: result.detail, code: result.code }
        : { name, status: result.status, detail: result.detail },
    );
    return result.status !== 'fail';
  }
}
