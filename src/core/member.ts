/**
 * A member description: what one institution contributes to a genesis. `jrchain init` writes one; the
 * alliance collects them and runs `jrchain genesis create --member a.json --member b.json ...`.
 *   { "format": "jrchain-member/v1", "institution": { "id", "name", "role" },   (role optional: bank)
 *     "validator": { "publicKey", "peerKey", "addrs": [...] }, (optional: observers run no validator;
 *                                                               peerKey: sm2-sm3 chains' Ed25519 libp2p key)
 *     "clientKeys": [ { "keyId", "publicKey" } ],
 *     "encryptionKey": "<X25519 public key hex>" }                 (optional, ADR 015)
 * Only public material goes in a member file.
 */
import { readFileSync } from 'node:fs';
import type { SuiteName } from './crypto-suite.ts';
import { ExitCode, exitCodes, JrError } from './errors.ts';
import { type CaseSealing, GENESIS_FORMAT, type Genesis, parseGenesis } from './genesis.ts';
import type { ConsensusParams } from './params.ts';
import type { InstitutionRole } from './roles.ts';

export const MEMBER_FORMAT = 'jrchain-member/v1';

export const MemberErrorCode = {
  /** A member description file that does not read or breaks a rule. */
  invalid: 'MEMBER_FILE_INVALID',
} as const;
export type MemberErrorCode = (typeof MemberErrorCode)[keyof typeof MemberErrorCode];
export const MemberErrorExit = exitCodes(MemberErrorCode, { invalid: ExitCode.badInput });

export class MemberFileError extends JrError {
  declare readonly code: MemberErrorCode;
  constructor(message: string) {
    super(MemberErrorCode.invalid, message);
  }
}

export interface MemberDescription {
  format: typeof MEMBER_FORMAT;
  institution: { id: string; name: string; role?: InstitutionRole };
  /** `peerKey`: on an sm2-sm3 chain, the Ed25519 key the validator's libp2p peer id derives from (ADR 014). */
  validator?: { publicKey: string; peerKey?: string; addrs: string[] };
  clientKeys: { keyId: string; publicKey: string }[];
  /** The institution's X25519 encryption key for case key wraps (ADR 015), registered by the genesis. */
  encryptionKey?: string;
}

export function readMemberFile(path: string): MemberDescription {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new MemberFileError(`cannot read member file ${path}: ${(err as Error).message}`);
  }
  const d = doc as Partial<MemberDescription> | null;
  if (typeof d !== 'object' || d === null || d.format !== MEMBER_FORMAT) {
    throw new MemberFileError(`${path} is not a ${MEMBER_FORMAT} member file`);
  }
  const allowed = new Set(['format', 'institution', 'validator', 'clientKeys', 'encryptionKey']);
  for (const k of Object.keys(d))
    if (!allowed.has(k)) throw new MemberFileError(`${path}: unknown field ${k}`);
  if (typeof d.institution !== 'object' || d.institution === null || !Array.isArray(d.clientKeys)) {
    throw new MemberFileError(`${path}: institution and clientKeys are required`);
  }
  return d as MemberDescription;
}

export interface AssembleOptions {
  chainId: string;
  createdAt: Date;
  consensus?: Partial<ConsensusParams>;
  trustAnchors?: string[];
  evidenceTokenToleranceMs?: number;
  /** cases.sealing (ADR 015); absent: no `cases` section, which reads as optional. */
  caseSealing?: CaseSealing;
  /** The chain's suite (ADR 014); absent: ed25519-sha256, with no `cryptoSuite` field. */
  cryptoSuite?: SuiteName;
}

/** Builds the genesis JSON from member descriptions, in the given order, and validates it strictly. */
export function assembleGenesis(
  members: MemberDescription[],
  opts: AssembleOptions,
): { json: unknown; genesis: Genesis } {
  const json = {
    format: GENESIS_FORMAT,
    ...(opts.cryptoSuite === undefined ? {} : { cryptoSuite: opts.cryptoSuite }),
    chainId: opts.chainId,
    createdAt: opts.createdAt.toISOString(),
    institutions: members.map((m) => ({
      id: m.institution.id,
      name: m.institution.name,
      ...(m.institution.role !== undefined ? { role: m.institution.role } : {}),
      clientKeys: m.clientKeys,
      ...(m.encryptionKey !== undefined ? { encryptionKey: m.encryptionKey } : {}),
    })),
    validators: members
      .filter((m) => m.validator !== undefined)
      .map((m) => ({
        institution: m.institution.id,
        publicKey: m.validator!.publicKey,
        ...(m.validator!.peerKey !== undefined ? { peerKey: m.validator!.peerKey } : {}),
        addrs: m.validator!.addrs,
      })),
    consensus: opts.consensus ?? {},
    tsa: {
      trustAnchors: opts.trustAnchors ?? [],
      ...(opts.evidenceTokenToleranceMs !== undefined
        ? { evidenceTokenToleranceMs: opts.evidenceTokenToleranceMs }
        : {}),
    },
    ...(opts.caseSealing === undefined ? {} : { cases: { sealing: opts.caseSealing } }),
  };
  const genesis = parseGenesis(json);
  return { json, genesis };
}
