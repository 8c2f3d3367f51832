/**
 * Case confidentiality (ADR 011, docs/cases.md#confidentiality): what a case's parties put on the chain instead
 * of its id, claimant and free text. Every secret derives from one random 32-byte **case key** that only the
 * parties hold: the chain carries keyed commitments (HMAC-SHA-256) and AES-256-GCM ciphertexts under it, and
 * the key itself only wrapped to each party institution's X25519 encryption key (registered by governance).
 *
 * node:crypto throughout (this is not the browser path). Every derivation is named by a domain string, so a
 * stranger holding the case key can recompute each value from docs/encoding.md.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import { toHex, utf8 } from './bytes.ts';
import { CASE_KEY_LENGTH, CASE_REF_PREFIX, WRAPPED_KEY_LENGTH, X25519_KEY_LENGTH } from './case-ref.ts';
import { decodeExact, expectVersion, invalidField, Writer } from './codec.ts';
import { ExitCode, exitCodes, JrError } from './errors.ts';
import { LABEL_FORBIDDEN_PATTERN, Limits } from './limits.ts';

export {
  CASE_KEY_LENGTH,
  CASE_REF_PREFIX,
  isCaseRef,
  WRAPPED_KEY_LENGTH,
  X25519_KEY_LENGTH,
} from './case-ref.ts';
/** The prefix of a sealed evidence label. */
export const SEALED_LABEL_PREFIX = 's1:';
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

export const SealErrorCode = {
  /** A ciphertext or wrapped key does not open under this key: wrong key, shredded key, or altered bytes. */
  openFailed: 'SEAL_OPEN_FAILED',
  /** A key of the wrong length or form. */
  badKey: 'SEAL_BAD_KEY',
} as const;
export type SealErrorCode = (typeof SealErrorCode)[keyof typeof SealErrorCode];
export const SealErrorExit = exitCodes(SealErrorCode, {
  openFailed: ExitCode.failed,
  badKey: ExitCode.usage,
});

export class SealError extends JrError {
  constructor(code: SealErrorCode, message: string) {
    super(code, message);
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The derivation purposes of a case key: HKDF-SHA-256 info `jrchain/case-<purpose>/v1`, no salt. */
export const CasePurpose = { ref: 'ref', claimant: 'claimant', text: 'text' } as const;
type CasePurpose = (typeof CasePurpose)[keyof typeof CasePurpose];

function checkKey(k: Uint8Array, length: number, what: string): void {
  if (!(k instanceof Uint8Array) || k.length !== length)
    throw new SealError(SealErrorCode.badKey, `${what} must be ${length} bytes`);
}

export function newCaseKey(): Uint8Array {
  return new Uint8Array(randomBytes(CASE_KEY_LENGTH));
}

/** HKDF-SHA-256(ikm = case key, salt = empty, info = `jrchain/case-<purpose>/v1`), 32 bytes. */
export function caseSubkey(caseKey: Uint8Array, purpose: CasePurpose): Uint8Array {
  checkKey(caseKey, CASE_KEY_LENGTH, 'case key');
  return new Uint8Array(hkdfSync('sha256', caseKey, new Uint8Array(0), `jrchain/case-${purpose}/v1`, 32));
}

function hmac(key: Uint8Array, data: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(utf8.encode(data)).digest());
}

/**
 * The case reference that stands for the case id on the chain, in case txs and in evidence:
 * `k1:` ‖ hex HMAC-SHA-256(subkey ref, UTF-8 case id). Without the case key nobody can test guesses of the id.
 */
export function caseRef(caseKey: Uint8Array, caseId: string): string {
  return `${CASE_REF_PREFIX}${toHex(hmac(caseSubkey(caseKey, CasePurpose.ref), caseId))}`;
}

/** The keyed claimant commitment: HMAC-SHA-256(subkey claimant, UTF-8 claimant reference). */
export function keyedClaimantCommitment(caseKey: Uint8Array, claimantRef: string): Uint8Array {
  return hmac(caseSubkey(caseKey, CasePurpose.claimant), claimantRef);
}

function gcmSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plain), c.final()]);
  return new Uint8Array(Buffer.concat([body, c.getAuthTag()]));
}

function gcmOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, what: string) {
  if (sealed.length < TAG_LENGTH) throw new SealError(SealErrorCode.openFailed, `${what} is too short`);
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
    return new Uint8Array(
      Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_LENGTH)), d.final()]),
    );
  } catch {
    throw new SealError(SealErrorCode.openFailed, `${what} does not open under this key`);
  }
}

/**
 * Encrypts case text (the case id and notes, an evidence label) under the case key: AES-256-GCM with the text
 * subkey, a random 12-byte nonce, and the case reference as associated data (a ciphertext moved to another
 * case does not open). Output: nonce ‖ ciphertext ‖ tag.
 */
export function sealText(
  caseKey: Uint8Array,
  ref: string,
  plain: Uint8Array,
  nonce?: Uint8Array,
): Uint8Array {
  const n = nonce ?? new Uint8Array(randomBytes(NONCE_LENGTH));
  checkKey(n, NONCE_LENGTH, 'nonce');
  const body = gcmSeal(caseSubkey(caseKey, CasePurpose.text), n, utf8.encode(ref), plain);
  const out = new Uint8Array(NONCE_LENGTH + body.length);
  out.set(n);
  out.set(body, NONCE_LENGTH);
  return out;
}

export function openText(caseKey: Uint8Array, ref: string, sealed: Uint8Array): Uint8Array {
  if (sealed.length < NONCE_LENGTH + TAG_LENGTH)
    throw new SealError(SealErrorCode.openFailed, 'sealed text is too short');
  const key = caseSubkey(caseKey, CasePurpose.text);
  return gcmOpen(
    key,
    sealed.subarray(0, NONCE_LENGTH),
    utf8.encode(ref),
    sealed.subarray(NONCE_LENGTH),
    'sealed text',
  );
}

/**
 * An evidence label sealed into the label field: `s1:` ‖ base64url(sealText). A fresh nonce is drawn until the
 * encoding contains no run the label rules refuse (11+ digits), which base64url almost never has.
 */
export function sealLabel(caseKey: Uint8Array, ref: string, label: string): string {
  for (;;) {
    const s = `${SEALED_LABEL_PREFIX}${Buffer.from(sealText(caseKey, ref, utf8.encode(label))).toString('base64url')}`;
    if (!LABEL_FORBIDDEN_PATTERN.test(s)) return s;
  }
}

/** The label in clear, or undefined when `label` is not a sealed label. Throws SealError when it does not open. */
export function openLabel(caseKey: Uint8Array, ref: string, label: string): string | undefined {
  if (!label.startsWith(SEALED_LABEL_PREFIX)) return undefined;
  const text = label.slice(SEALED_LABEL_PREFIX.length);
  if (!BASE64URL.test(text)) throw new SealError(SealErrorCode.openFailed, 'sealed label is not base64url');
  return openUtf8(openText(caseKey, ref, new Uint8Array(Buffer.from(text, 'base64url'))));
}

/** Opened bytes as UTF-8 text (a SealError when they are not). */
export function openUtf8(bytes: Uint8Array): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new SealError(SealErrorCode.openFailed, 'opened text is not UTF-8');
  }
}

// ---- X25519 encryption keys and case key wraps ----

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

function privateObject(priv: Uint8Array) {
  checkKey(priv, X25519_KEY_LENGTH, 'X25519 private key');
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, priv]), format: 'der', type: 'pkcs8' });
}

function publicObject(pub: Uint8Array) {
  checkKey(pub, X25519_KEY_LENGTH, 'X25519 public key');
  return createPublicKey({ key: Buffer.concat([SPKI_X25519, pub]), format: 'der', type: 'spki' });
}

export function x25519PublicKey(priv: Uint8Array): Uint8Array {
  const der = createPublicKey(privateObject(priv)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - X25519_KEY_LENGTH));
}

/** A fresh X25519 key pair as raw 32-byte keys. */
export function newEncryptionKey(): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const { privateKey } = generateKeyPairSync('x25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const priv = new Uint8Array(der.subarray(der.length - X25519_KEY_LENGTH));
  return { privateKey: priv, publicKey: x25519PublicKey(priv) };
}

function x25519(priv: Uint8Array, pub: Uint8Array): Uint8Array {
  return new Uint8Array(diffieHellman({ privateKey: privateObject(priv), publicKey: publicObject(pub) }));
}

/** What a wrap is bound to: the case reference, the recipient institution and its public key. */
function wrapAad(ref: string, institution: string): Uint8Array {
  return utf8.encode(`jrchain/case-wrap/v1\0${ref}\0${institution}`);
}

function wrapKek(shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array): Uint8Array {
  const salt = Buffer.concat([ephemeral, recipient]);
  return new Uint8Array(hkdfSync('sha256', shared, salt, 'jrchain/case-wrap/v1', 32));
}

/**
 * Wraps the case key for one institution (ECIES): an ephemeral X25519 key agrees a secret with the recipient's
 * registered key; HKDF-SHA-256(secret, salt = ephemeral ‖ recipient, info `jrchain/case-wrap/v1`) keys
 * AES-256-GCM (zero nonce: each key is used once) over the case key, with the case reference and the
 * institution as associated data. Output: ephemeral public key ‖ ciphertext ‖ tag (80 bytes).
 */
export function wrapCaseKey(
  caseKey: Uint8Array,
  recipient: Uint8Array,
  ref: string,
  institution: string,
  ephemeralPrivate?: Uint8Array,
): Uint8Array {
  checkKey(caseKey, CASE_KEY_LENGTH, 'case key');
  const eph = ephemeralPrivate ?? newEncryptionKey().privateKey;
  const ephPub = x25519PublicKey(eph);
  const kek = wrapKek(x25519(eph, recipient), ephPub, recipient);
  const body = gcmSeal(kek, new Uint8Array(NONCE_LENGTH), wrapAad(ref, institution), caseKey);
  const out = new Uint8Array(WRAPPED_KEY_LENGTH);
  out.set(ephPub);
  out.set(body, X25519_KEY_LENGTH);
  return out;
}

/** The case key from a wrap, with the recipient's private key; SealError when it does not open. */
export function unwrapCaseKey(
  wrapped: Uint8Array,
  recipientPrivate: Uint8Array,
  ref: string,
  institution: string,
): Uint8Array {
  if (wrapped.length !== WRAPPED_KEY_LENGTH)
    throw new SealError(SealErrorCode.openFailed, `a wrapped key is ${WRAPPED_KEY_LENGTH} bytes`);
  const ephPub = wrapped.subarray(0, X25519_KEY_LENGTH);
  const recipient = x25519PublicKey(recipientPrivate);
  let shared: Uint8Array;
  try {
    shared = x25519(recipientPrivate, ephPub);
  } catch {
    throw new SealError(SealErrorCode.openFailed, 'the wrap carries an invalid ephemeral key');
  }
  const kek = wrapKek(shared, ephPub, recipient);
  const aad = wrapAad(ref, institution);
  return gcmOpen(
    kek,
    new Uint8Array(NONCE_LENGTH),
    aad,
    wrapped.subarray(X25519_KEY_LENGTH),
    'wrapped case key',
  );
}

// ---- the sealed details of a case event ----

/** What a sealed record carries encrypted: the case id (in the open event) and free-text notes. */
export interface CaseDetails {
  caseId: string;
  note?: string | undefined;
}

const DETAILS_VERSION = 1;
const NOTE_BYTES = 1024;
const MAX_DETAILS_BYTES = 2048;

/** u8 version (1) ‖ string caseId ‖ optional string note, sealed with sealText under the case reference. */
export function sealCaseDetails(
  caseKey: Uint8Array,
  ref: string,
  d: CaseDetails,
  nonce?: Uint8Array,
): Uint8Array {
  if (d.note !== undefined && utf8.encode(d.note).length > NOTE_BYTES)
    throw invalidField(`a note is at most ${NOTE_BYTES} bytes`);
  const w = new Writer(128)
    .u8(DETAILS_VERSION)
    .string(d.caseId)
    .optional(d.note, (w, n) => w.string(n));
  return sealText(caseKey, ref, w.finish(), nonce);
}

/** The details of a sealed record; SealError when they do not open under this key. */
export function openCaseDetails(caseKey: Uint8Array, ref: string, sealed: Uint8Array): CaseDetails {
  const plain = openText(caseKey, ref, sealed);
  try {
    return decodeExact(plain, MAX_DETAILS_BYTES, 'case details', (r) => {
      expectVersion(r, DETAILS_VERSION, 'case details');
      const caseId = r.string(Limits.caseIdBytes, 'case id');
      const note = r.optional(() => r.string(NOTE_BYTES, 'note'));
      return note === undefined ? { caseId } : { caseId, note };
    });
  } catch {
    throw new SealError(SealErrorCode.openFailed, 'the sealed details opened but do not decode');
  }
}
