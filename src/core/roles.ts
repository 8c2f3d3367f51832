/**
 * Institution roles (docs/cases.md): what an institution is in the alliance decides which case events it may
 * record. A genesis institution without a role is a `bank`, so genesis files written before roles existed keep
 * their meaning and their hash. A role changes only through governance (`setInstitutionRole`).
 */
export const InstitutionRoles = {
  bank: 1,
  mediator: 2,
  court: 3,
  regulator: 4,
} as const;
export type InstitutionRole = keyof typeof InstitutionRoles;

/** The role of an institution that names none (genesis files and registrations predating roles). */
export const DEFAULT_ROLE: InstitutionRole = 'bank';

const roleByCode = new Map<number, InstitutionRole>(
  Object.entries(InstitutionRoles).map(([k, v]) => [v, k as InstitutionRole] as const),
);

export function isInstitutionRole(s: unknown): s is InstitutionRole {
  return typeof s === 'string' && Object.hasOwn(InstitutionRoles, s);
}

/** The role with this wire code, or undefined. */
export function roleOfCode(code: number): InstitutionRole | undefined {
  return roleByCode.get(code);
}

export const ROLE_NAMES = Object.keys(InstitutionRoles) as InstitutionRole[];
