/**
 * The sizes and the case-reference form that case records are checked against (case.ts), apart from the
 * sealing itself (case-seal.ts, node:crypto): the case-receipt verifier runs in browsers (ADR 013).
 */
export const CASE_KEY_LENGTH = 32;
export const X25519_KEY_LENGTH = 32;
/** ephemeral public key ‖ wrapped case key ‖ GCM tag. */
export const WRAPPED_KEY_LENGTH = X25519_KEY_LENGTH + CASE_KEY_LENGTH + 16;
/** The prefix of a case reference (a keyed commitment standing for the case id on the chain). */
export const CASE_REF_PREFIX = 'k1:';
const CASE_REF_PATTERN = /^k1:[0-9a-f]{64}$/;

export function isCaseRef(s: string): boolean {
  return CASE_REF_PATTERN.test(s);
}
