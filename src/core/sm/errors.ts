/** Typed errors of the crypto suites (src/core/crypto-suite.ts) and the SM2 primitives under src/core/sm/. */
import { ExitCode, exitCodes, JrError } from '../errors.ts';

export const SuiteErrorCode = {
  /** A public key of the wrong length or format, or not a point of the curve. */
  badPublicKey: 'SUITE_BAD_PUBLIC_KEY',
  /** A private key of the wrong length or out of range. */
  badPrivateKey: 'SUITE_BAD_PRIVATE_KEY',
  /** A signature of the wrong length or encoding. */
  badSignature: 'SUITE_BAD_SIGNATURE',
  /** A suite name that no implementation answers to. */
  unknownSuite: 'SUITE_UNKNOWN',
} as const;
export type SuiteErrorCode = (typeof SuiteErrorCode)[keyof typeof SuiteErrorCode];
export const SuiteErrorExit = exitCodes(SuiteErrorCode, {
  badPublicKey: ExitCode.badInput,
  badPrivateKey: ExitCode.badInput,
  badSignature: ExitCode.badInput,
  unknownSuite: ExitCode.badInput,
});

export class SuiteError extends JrError {
  declare readonly code: SuiteErrorCode;
  constructor(code: SuiteErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}
