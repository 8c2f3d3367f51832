/**
 * The genesis: who is in the alliance and how it runs. It is a JSON document (docs/genesis.md), validated
 * strictly: unknown fields, wrong types, duplicates and dangling references are refused. Its hash, over a
 * canonical binary encoding, identifies the chain. Network addresses are deliberately outside the hash: a
 * validator that moves can be updated in config without forking the chain.
 */
import { toHex, tryFromHex, utf8Length } from './bytes.ts';
import { X25519_KEY_LENGTH } from './case-ref.ts';
import { Writer } from './codec.ts';
import { Domain, PUBLIC_KEY_LENGTH } from './crypto.ts';
import { type CryptoSuite, cryptoSuite, ED25519_SHA256, type SuiteName } from './crypto-suite.ts';
import { ExitCode, exitCodes, JrError } from './errors.ts';
import { ID_PATTERN, Limits } from './limits.ts';
import { type ConsensusParams, DEFAULT_CONSENSUS_PARAMS, validateConsensusParams } from './params.ts';
import { ed25519PeerId } from './peer-id.ts';
import { isCertificatePem } from './pem-cert.ts';
import {
  DEFAULT_ROLE,
  type InstitutionRole,
  InstitutionRoles,
  isInstitutionRole,
  ROLE_NAMES,
} from './roles.ts';
import { VALIDATOR_KEY_ID } from './tx.ts';
import { type ValidatorSet, validatorSetHash, writeValidatorSet } from './validators.ts';

export const GENESIS_FORMAT = 'jrchain-genesis/v1';

export const GenesisErrorCode = {
  unreadable: 'GENESIS_UNREADABLE',
  tooLarge: 'GENESIS_TOO_LARGE',
  invalid: 'GENESIS_INVALID',
} as const;
export type GenesisErrorCode = (typeof GenesisErrorCode)[keyof typeof GenesisErrorCode];
export const GenesisErrorExit = exitCodes(GenesisErrorCode, {
  unreadable: ExitCode.badInput,
  tooLarge: ExitCode.badInput,
  /** A genesis that reads but breaks a rule: `genesis verify` answers "invalid". */
  invalid: ExitCode.failed,
});

export class GenesisError extends JrError {
  declare readonly code: GenesisErrorCode;
  constructor(code: GenesisErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}

export interface ClientKey {
  keyId: string;
  publicKey: Uint8Array;
}

export interface Institution {
  id: string;
  name: string;
  /** What the institution is (docs/cases.md); `bank` when the genesis names none. */
  role: InstitutionRole;
  clientKeys: ClientKey[];
  /** Its X25519 encryption key for case key wraps (ADR 015), registered from block 1; governance may change it. */
  encryptionKey?: Uint8Array | undefined;
}

export interface GenesisValidator {
  institution: string;
  /** The validator's consensus key, of the chain's crypto suite. */
  publicKey: Uint8Array;
  /**
   * On an `sm2-sm3` chain only: the Ed25519 key of the validator's libp2p identity. libp2p peer ids are
   * Ed25519 (transport, not evidence), so an SM chain's validators hold one of each (ADR 014).
   */
  peerKey?: Uint8Array;
  /** libp2p peer id, derived from the public key, or from `peerKey` when there is one (checked). */
  peerId: string;
  /** libp2p multiaddrs to dial; not part of the chain identity. */
  addrs: string[];
}

export interface TsaParams {
  /** PEM root certificates trusted for RFC 3161 tokens. */
  trustAnchors: string[];
  /** An evidence token's genTime must lie within this distance of the time the tx is checked. */
  evidenceTokenToleranceMs: number;
}

/**
 * How a chain treats dispute cases' confidentiality (ADR 015). `required`: validators refuse case records that
 * name a case by anything but its keyed reference, and an `open` without sealed details (TX_CASE_UNSEALED).
 * `optional`: unsealed (version 1) case records are accepted too; what a genesis without `cases` means, so
 * chains created before the parameter replay unchanged.
 */
export const CaseSealingModes = ['required', 'optional'] as const;
export type CaseSealing = (typeof CaseSealingModes)[number];
/** What `jrchain genesis create` and the devnet write from now on. */
export const DEFAULT_CASE_SEALING: CaseSealing = 'required';

export interface CaseParams {
  sealing: CaseSealing;
}

export interface Genesis {
  chainId: string;
  /** The hash and signature algorithms of the chain (ADR 014); absent: `ed25519-sha256`, as before. */
  cryptoSuite?: SuiteName;
  /** Epoch milliseconds. */
  createdAt: number;
  institutions: Institution[];
  validators: GenesisValidator[];
  consensus: ConsensusParams;
  tsa: TsaParams;
  /** Absent in the JSON: `{ sealing: 'optional' }`. */
  cases: CaseParams;
}

export const sealingRequired = (g: Pick<Genesis, 'cases'>): boolean => g.cases.sealing === 'required';

export const DEFAULT_TSA_PARAMS: Readonly<TsaParams> = Object.freeze({
  trustAnchors: [],
  evidenceTokenToleranceMs: 24 * 60 * 60 * 1000,
});

/** The crypto suite the genesis chose: every hash and signature of the chain uses it. */
export function genesisSuite(g: Genesis): CryptoSuite {
  return g.cryptoSuite === undefined ? ED25519_SHA256 : cryptoSuite(g.cryptoSuite);
}

/** The ordered validator set the genesis starts with. */
export function genesisValidatorSet(g: Genesis): ValidatorSet {
  return { validators: g.validators.map((v) => ({ institution: v.institution, publicKey: v.publicKey })) };
}

export function encodeGenesisForHash(g: Genesis): Uint8Array {
  const suite = genesisSuite(g);
  const w = new Writer(1024);
  // Version 1 is today's Ed25519/SHA-256 genesis, unchanged; any other suite encodes as version 2 with the
  // suite's name first, so no genesis of one suite shares an encoding with one of another.
  if (suite === ED25519_SHA256) w.u8(1);
  else w.u8(2).string(suite.name);
  w.string(g.chainId).varint(g.createdAt).varint(g.institutions.length);
  for (const inst of g.institutions) {
    w.string(inst.id).string(inst.name).varint(inst.clientKeys.length);
    for (const k of inst.clientKeys) w.string(k.keyId).fixed(k.publicKey, suite.publicKeyLength);
  }
  writeValidatorSet(w, genesisValidatorSet(g), suite);
  if (suite !== ED25519_SHA256) {
    for (const v of g.validators) w.fixed(v.peerKey ?? new Uint8Array(0), PUBLIC_KEY_LENGTH);
  }
  const c = g.consensus;
  for (const v of [
    c.maxBatchTxs,
    c.maxBatchBytes,
    c.maxBatchWaitMs,
    c.checkpointInterval,
    c.watermarkWindow,
    c.requestTimeoutMs,
    c.viewChangeTimeoutMs,
    c.viewChangeTimeoutMaxMs,
    c.maxClockSkewMs,
  ]) {
    w.varint(v);
  }
  w.varint(g.tsa.trustAnchors.length);
  for (const pem of g.tsa.trustAnchors) w.string(pem);
  w.varint(g.tsa.evidenceTokenToleranceMs);
  // Roles came later: a genesis whose institutions are all banks (the default) hashes as it always did, so
  // existing chains keep their identity; any other role appends one role code per institution.
  // Mandatory sealing and genesis encryption keys came later still (ADR 015): a genesis with neither hashes as
  // before. One with either writes the roles unconditionally, the string `cases.sealing=<mode>` and one
  // optional key per institution; the institution count fixes where the roles end, so no two forms share bytes.
  const cases = sealingRequired(g) || g.institutions.some((i) => i.encryptionKey !== undefined);
  if (cases || g.institutions.some((i) => i.role !== DEFAULT_ROLE)) {
    for (const inst of g.institutions) w.u8(InstitutionRoles[inst.role]);
  }
  if (cases) {
    w.string(`cases.sealing=${g.cases.sealing}`);
    for (const inst of g.institutions)
      w.optional(inst.encryptionKey, (w, k) => w.fixed(k, X25519_KEY_LENGTH));
  }
  return w.finish();
}

/** The chain identity; also block 1's prevHash. */
export function genesisHash(g: Genesis): Uint8Array {
  return genesisSuite(g).taggedHash(Domain.genesis, encodeGenesisForHash(g));
}

// ---- JSON form ----

type Json = unknown;

class Path {
  readonly where: string;
  constructor(where: string) {
    this.where = where;
  }
  fail(msg: string): never {
    throw new GenesisError(GenesisErrorCode.invalid, `${this.where}: ${msg}`, { path: this.where });
  }
  at(key: string | number): Path {
    return new Path(typeof key === 'number' ? `${this.where}[${key}]` : `${this.where}.${key}`);
  }
  object(v: Json, required: string[], optional: string[] = []): Record<string, Json> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail('must be an object');
    const o = v as Record<string, Json>;
    for (const k of Object.keys(o)) {
      if (!required.includes(k) && !optional.includes(k)) this.at(k).fail('unknown field');
    }
    for (const k of required) if (!(k in o)) this.at(k).fail('missing');
    return o;
  }
  array(v: Json, max: number): Json[] {
    if (!Array.isArray(v)) this.fail('must be an array');
    if (v.length > max) this.fail(`more than ${max} entries`);
    return v;
  }
  string(v: Json, pattern?: RegExp, maxBytes = 256): string {
    if (typeof v !== 'string') this.fail('must be a string');
    if (!v.isWellFormed() || utf8Length(v) > maxBytes)
      this.fail(`must be well-formed, at most ${maxBytes} bytes`);
    if (pattern !== undefined && !pattern.test(v)) this.fail(`must match ${pattern}`);
    return v;
  }
  /** A public key of `suite` in hex: 32-byte Ed25519, or a 65-byte SM2 point 04 || x || y on the curve. */
  key(v: Json, suite: CryptoSuite = ED25519_SHA256): Uint8Array {
    const b = tryFromHex(this.string(v));
    if (suite === ED25519_SHA256) {
      if (b === undefined || b.length !== PUBLIC_KEY_LENGTH)
        this.fail('must be a 32-byte Ed25519 public key in hex');
      return b;
    }
    if (b === undefined || b.length !== suite.publicKeyLength) {
      this.fail(`must be a ${suite.publicKeyLength}-byte ${suite.name} public key in hex`);
    }
    try {
      suite.checkPublicKey(b);
    } catch (err) {
      this.fail((err as Error).message);
    }
    return b;
  }
  x25519(v: Json): Uint8Array {
    const b = tryFromHex(this.string(v));
    if (b === undefined || b.length !== X25519_KEY_LENGTH)
      this.fail('must be a 32-byte X25519 public key in hex');
    return b;
  }
  int(v: Json): number {
    if (!Number.isSafeInteger(v) || (v as number) < 0) this.fail('must be a non-negative integer');
    return v as number;
  }
}

function parseRole(p: Path, v: Json): InstitutionRole {
  if (!isInstitutionRole(v)) p.fail(`must be one of ${ROLE_NAMES.join(', ')}`);
  return v;
}

function parseTime(p: Path, v: Json): number {
  const s = p.string(v);
  const t = Date.parse(s);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/.test(s) || Number.isNaN(t)) {
    p.fail('must be an ISO-8601 UTC time such as 2026-01-01T00:00:00.000Z');
  }
  return t;
}

/** Parses and strictly validates a genesis JSON value. */
export function parseGenesis(doc: Json): Genesis {
  const root = new Path('genesis');
  const o = root.object(
    doc,
    ['format', 'chainId', 'createdAt', 'institutions', 'validators'],
    ['consensus', 'tsa', 'cases', 'cryptoSuite'],
  );
  if (o.format !== GENESIS_FORMAT) root.at('format').fail(`must be "${GENESIS_FORMAT}"`);
  const suite = parseSuite(root.at('cryptoSuite'), o.cryptoSuite);
  const chainId = root.at('chainId').string(o.chainId, ID_PATTERN, Limits.chainIdBytes);
  const createdAt = parseTime(root.at('createdAt'), o.createdAt);
  const institutions = parseInstitutions(root.at('institutions'), o.institutions, suite);
  const validators = parseValidators(root.at('validators'), o.validators, institutions, suite);
  checkKeysUnique(root, validators, institutions);
  const consensus = parseConsensus(root.at('consensus'), o.consensus);
  const tsa = parseTsa(root.at('tsa'), o.tsa);
  const cases = parseCases(root.at('cases'), o.cases);
  const g: Genesis = { chainId, createdAt, institutions, validators, consensus, tsa, cases };
  // Only a non-default suite is named: an Ed25519 genesis parses to exactly what it did before ADR 014.
  return suite === ED25519_SHA256 ? g : { ...g, cryptoSuite: suite.name };
}

function parseCases(p: Path, value: Json | undefined): CaseParams {
  if (value === undefined) return { sealing: 'optional' };
  const o = p.object(value, ['sealing']);
  const sealing = o.sealing;
  if (!CaseSealingModes.includes(sealing as CaseSealing))
    p.at('sealing').fail(`must be one of ${CaseSealingModes.join(', ')}`);
  return { sealing: sealing as CaseSealing };
}

function parseSuite(p: Path, value: Json | undefined): CryptoSuite {
  if (value === undefined) return ED25519_SHA256;
  const name = p.string(value);
  try {
    return cryptoSuite(name);
  } catch (err) {
    return p.fail((err as Error).message);
  }
}

function parseInstitutions(instPath: Path, value: Json | undefined, suite: CryptoSuite): Institution[] {
  const institutions: Institution[] = instPath.array(value, Limits.institutions).map((v, i) => {
    const p = instPath.at(i);
    const io = p.object(v, ['id', 'name', 'clientKeys'], ['role', 'encryptionKey']);
    const role: InstitutionRole = io.role === undefined ? DEFAULT_ROLE : parseRole(p.at('role'), io.role);
    const keysPath = p.at('clientKeys');
    const clientKeys = keysPath.array(io.clientKeys, Limits.clientKeysPerInstitution).map((k, j) => {
      const kp = keysPath.at(j);
      const ko = kp.object(k, ['keyId', 'publicKey']);
      const keyId = kp.at('keyId').string(ko.keyId, ID_PATTERN);
      if (keyId === VALIDATOR_KEY_ID)
        kp.at('keyId').fail(`"${VALIDATOR_KEY_ID}" is reserved for validator keys`);
      return { keyId, publicKey: kp.at('publicKey').key(ko.publicKey, suite) };
    });
    const keyIds = new Set(clientKeys.map((k) => k.keyId));
    if (keyIds.size !== clientKeys.length) keysPath.fail('duplicate keyId');
    const name = p.at('name').string(io.name, undefined, Limits.institutionNameBytes);
    if (name.trim().length === 0) p.at('name').fail('must not be empty');
    const id = p.at('id').string(io.id, ID_PATTERN);
    if (io.encryptionKey === undefined) return { id, name, role, clientKeys };
    return { id, name, role, clientKeys, encryptionKey: p.at('encryptionKey').x25519(io.encryptionKey) };
  });
  if (institutions.length === 0) instPath.fail('must list at least one institution');
  const instIds = new Set(institutions.map((i) => i.id));
  if (instIds.size !== institutions.length) instPath.fail('duplicate institution id');
  return institutions;
}

function parseValidators(
  valPath: Path,
  value: Json | undefined,
  institutions: readonly Institution[],
  suite: CryptoSuite,
): GenesisValidator[] {
  const instIds = new Set(institutions.map((i) => i.id));
  // An SM chain's validator names the Ed25519 key of its libp2p identity besides its SM2 consensus key.
  const separatePeerKey = suite !== ED25519_SHA256;
  const validators: GenesisValidator[] = valPath.array(value, Limits.validators).map((v, i) => {
    const p = valPath.at(i);
    const vo = p.object(
      v,
      separatePeerKey
        ? ['institution', 'publicKey', 'peerKey', 'addrs']
        : ['institution', 'publicKey', 'addrs'],
      ['peerId'],
    );
    const institution = p.at('institution').string(vo.institution, ID_PATTERN);
    if (!instIds.has(institution)) p.at('institution').fail(`unknown institution ${institution}`);
    const publicKey = p.at('publicKey').key(vo.publicKey, suite);
    const peerKey = separatePeerKey ? p.at('peerKey').key(vo.peerKey) : undefined;
    const peerId = ed25519PeerId(peerKey ?? publicKey);
    if (vo.peerId !== undefined && vo.peerId !== peerId)
      p.at('peerId').fail(`does not match the key (${peerId})`);
    const addrs = p
      .at('addrs')
      .array(vo.addrs, 16)
      .map((a, j) =>
        p
          .at('addrs')
          .at(j)
          .string(a, /^\/(ip4|ip6|dns4|dns6|dns)\/[^/\s]+\/tcp\/\d{1,5}(\/p2p\/\w+)?$/),
      );
    return { institution, publicKey, ...(peerKey ? { peerKey } : {}), peerId, addrs };
  });
  if (validators.length === 0) valPath.fail('must list at least one validator');
  const seenInst = new Set<string>();
  for (const [i, v] of validators.entries()) {
    if (seenInst.has(v.institution))
      valPath.at(i).fail(`institution ${v.institution} already has a validator`);
    seenInst.add(v.institution);
  }
  return validators;
}

/** No key serves twice: not two validators, nor a validator and a client, nor two clients. */
function checkKeysUnique(
  root: Path,
  validators: readonly GenesisValidator[],
  institutions: readonly Institution[],
): void {
  const allKeys = new Set<string>();
  for (const [i, v] of validators.entries()) {
    const k = toHex(v.publicKey);
    if (allKeys.has(k)) root.at('validators').at(i).fail('validator key used twice');
    allKeys.add(k);
  }
  // Two validators with one peer key would be one libp2p peer (SM chains name peer keys, ADR 014).
  const peerKeys = new Set<string>();
  for (const [i, v] of validators.entries()) {
    if (v.peerKey === undefined) continue;
    if (peerKeys.has(toHex(v.peerKey))) root.at('validators').at(i).at('peerKey').fail('peer key used twice');
    peerKeys.add(toHex(v.peerKey));
  }
  for (const inst of institutions) {
    for (const k of inst.clientKeys) {
      if (allKeys.has(toHex(k.publicKey))) root.at('institutions').fail(`key ${inst.id}/${k.keyId} reused`);
      allKeys.add(toHex(k.publicKey));
    }
  }
}

function parseConsensus(p: Path, value: Json | undefined): ConsensusParams {
  const consensus = { ...DEFAULT_CONSENSUS_PARAMS };
  if (value !== undefined) {
    const co = p.object(value, [], Object.keys(DEFAULT_CONSENSUS_PARAMS));
    for (const [k, v] of Object.entries(co)) consensus[k as keyof ConsensusParams] = p.at(k).int(v);
  }
  try {
    validateConsensusParams(consensus);
  } catch (err) {
    p.fail((err as Error).message);
  }
  return consensus;
}

function parseTsa(p: Path, value: Json | undefined): TsaParams {
  const tsa: TsaParams = { ...DEFAULT_TSA_PARAMS, trustAnchors: [] };
  if (value === undefined) return tsa;
  const to = p.object(value, [], ['trustAnchors', 'evidenceTokenToleranceMs']);
  if (to.trustAnchors !== undefined) {
    tsa.trustAnchors = p
      .at('trustAnchors')
      .array(to.trustAnchors, Limits.trustAnchors)
      .map((pem, i) => {
        const ap = p.at('trustAnchors').at(i);
        const s = ap.string(
          pem,
          /^-----BEGIN CERTIFICATE-----\r?\n[\s\S]+-----END CERTIFICATE-----\s*$/,
          Limits.trustAnchorPemBytes,
        );
        if (!isCertificatePem(s)) ap.fail('is not a parsable X.509 certificate');
        return s;
      });
  }
  if (to.evidenceTokenToleranceMs !== undefined) {
    tsa.evidenceTokenToleranceMs = p.at('evidenceTokenToleranceMs').int(to.evidenceTokenToleranceMs);
  }
  return tsa;
}

/** The JSON form of a genesis (what `genesis create` writes). */
export function genesisToJson(g: Genesis): Record<string, unknown> {
  return {
    format: GENESIS_FORMAT,
    ...(g.cryptoSuite === undefined ? {} : { cryptoSuite: g.cryptoSuite }),
    chainId: g.chainId,
    createdAt: new Date(g.createdAt).toISOString(),
    institutions: g.institutions.map((i) => ({
      id: i.id,
      name: i.name,
      role: i.role,
      clientKeys: i.clientKeys.map((k) => ({ keyId: k.keyId, publicKey: toHex(k.publicKey) })),
      ...(i.encryptionKey === undefined ? {} : { encryptionKey: toHex(i.encryptionKey) }),
    })),
    validators: g.validators.map((v) => ({
      institution: v.institution,
      publicKey: toHex(v.publicKey),
      ...(v.peerKey ? { peerKey: toHex(v.peerKey) } : {}),
      peerId: v.peerId,
      addrs: v.addrs,
    })),
    consensus: { ...g.consensus },
    tsa: { trustAnchors: g.tsa.trustAnchors, evidenceTokenToleranceMs: g.tsa.evidenceTokenToleranceMs },
    // Written only when required, so an older genesis reads back byte for byte.
    ...(sealingRequired(g) ? { cases: { sealing: g.cases.sealing } } : {}),
  };
}

/** Summary figures for `genesis verify` and status pages. */
export function describeGenesis(g: Genesis): Record<string, unknown> {
  return {
    chainId: g.chainId,
    cryptoSuite: genesisSuite(g).name,
    genesisHash: toHex(genesisHash(g)),
    createdAt: new Date(g.createdAt).toISOString(),
    institutions: g.institutions.length,
    validators: g.validators.length,
    validatorSetHash: toHex(validatorSetHash(genesisValidatorSet(g), genesisSuite(g))),
    trustAnchors: g.tsa.trustAnchors.length,
    caseSealing: g.cases.sealing,
  };
}
