/**
 * The anchor record: the payload of an `anchor` tx. It binds a committed block to RFC 3161 trusted time: the
 * token's message imprint is the block's header hash (SHA-256; the 32-byte header hash itself is the hashed
 * message). Because every header links to its parent by hash, one token proves that the anchored block and
 * every block before it existed no later than the token's genTime.
 */

import { toHex } from './bytes.ts';
import { CodecError, CodecErrorCode, decodeExact, invalidField, type Reader, Writer } from './codec.ts';
import { HASH_LENGTH } from './crypto.ts';
import { HashAlgs } from './evidence.ts';
import { isRenewalHashAlg, type RenewalHashAlg, RenewalHashAlgs } from './hash-renewal.ts';
import { Limits } from './limits.ts';

/**
 * Version 1: no archive timestamp. Version 2 appends one. Version 3 appends an optional archive timestamp
 * (behind a presence byte) and a renewal. Version 4 appends an optional archive, an optional renewal and a
 * hash renewal. Version 5 appends an optional archive, an optional renewal, an optional hash renewal and 1-2
 * stamp renewals. The encoder writes the lowest version that can hold the record, so records without the new
 * fields keep their old bytes.
 */
export const ANCHOR_VERSION = 1;
export const ANCHOR_VERSION_ARCHIVE = 2;
export const ANCHOR_VERSION_RENEWAL = 3;
export const ANCHOR_VERSION_HASH_RENEWAL = 4;
export const ANCHOR_VERSION_STAMP_RENEWAL = 5;

/** Most hash-renewal requests one anchor stamps (32 bytes each in the payload). */
export const MAX_HASH_RENEWALS = 128;

/**
 * An RFC 4998 archive timestamp over the evidence the anchor covers (ADR 012, docs/long-term.md): `token`'s
 * imprint is `root`, the SHA-256 ERS hash tree root over the SHA-256 evidence hashes recorded in blocks
 * `from`..the anchored height. Evidence records (`jrchain receipt export --format ers`) lead from a document's
 * hash to this root.
 */
export interface ArchiveStamp {
  from: number;
  root: Uint8Array;
  /** Bare RFC 3161 TimeStampToken, DER. */
  token: Uint8Array;
}

/**
 * A timestamp renewal (RFC 4998 5.2, ADR 012): `token`'s imprint is `root`, the ERS hash tree root over one
 * leaf per archive timestamp anchored at or below `upTo`, each leaf covering every timestamp of that archive's
 * chain so far (its own token and the renewals before this one). It keeps every archive provable after the
 * certificates of its earlier tokens expire.
 */
export interface RenewalStamp {
  upTo: number;
  root: Uint8Array;
  token: Uint8Array;
}

/**
 * A hash-tree renewal (RFC 4998 5.2, ADR 016): `token`'s imprint (under `hashAlg`) is `root`, the `hashAlg`
 * ERS hash tree root over one leaf per listed request, H'(H'(document) ‖ H'(DER of the document's evidence
 * record chains as exported before this anchor)). Each request is a committed `hash-renewal` tx, named by its
 * tx hash, in the order the primary listed them.
 */
export interface HashRenewalStamp {
  hashAlg: RenewalHashAlg;
  requests: Uint8Array[];
  root: Uint8Array;
  token: Uint8Array;
}

/**
 * A timestamp renewal of hash-tree renewed chains (RFC 4998 5.2, ADR 018): `token`'s imprint (under `hashAlg`)
 * is `root`, the `hashAlg` ERS hash tree root over one leaf per hash-renewal stamp under `hashAlg` anchored at
 * or below `upTo`, each leaf covering every timestamp of that stamp's chain so far (its token and the stamp
 * renewals before this one). Every document a stamp covers shares its chain, so one leaf serves them all.
 */
export interface StampRenewal {
  hashAlg: RenewalHashAlg;
  upTo: number;
  root: Uint8Array;
  token: Uint8Array;
}

/** At most one stamp renewal per hash (sha384, sha512) in an anchor. */
export const MAX_STAMP_RENEWALS = 2;

export interface AnchorRecord {
  /** Height of the anchored block (>= 1). */
  height: number;
  /** That block's header hash; also the token's message imprint. */
  headerHash: Uint8Array;
  /** Bare RFC 3161 TimeStampToken, DER. */
  token: Uint8Array;
  archive?: ArchiveStamp;
  renewal?: RenewalStamp;
  hashRenewal?: HashRenewalStamp;
  stampRenewals?: StampRenewal[];
}

function validateToken(token: Uint8Array, what: string): void {
  if (token.length === 0 || token.length > Limits.tsTokenBytes) {
    throw invalidField(`${what} must be 1-${Limits.tsTokenBytes} bytes`);
  }
}

function validateAnchor(a: AnchorRecord): void {
  if (!Number.isSafeInteger(a.height) || a.height < 1) throw invalidField('anchored height must be >= 1');
  if (a.headerHash.length !== HASH_LENGTH)
    throw invalidField(`anchored header hash must be ${HASH_LENGTH} bytes`);
  validateToken(a.token, 'anchor time-stamp token');
  const { archive, renewal } = a;
  if (archive !== undefined) {
    if (!Number.isSafeInteger(archive.from) || archive.from < 1 || archive.from > a.height) {
      throw invalidField('the archive timestamp must cover blocks from 1 to the anchored height');
    }
    if (archive.root.length !== HASH_LENGTH) throw invalidField(`archive root must be ${HASH_LENGTH} bytes`);
    validateToken(archive.token, 'archive time-stamp token');
  }
  if (renewal !== undefined) {
    if (!Number.isSafeInteger(renewal.upTo) || renewal.upTo < 1 || renewal.upTo >= a.height) {
      throw invalidField('a renewal must cover archives anchored below the anchored height');
    }
    if (renewal.root.length !== HASH_LENGTH) throw invalidField(`renewal root must be ${HASH_LENGTH} bytes`);
    validateToken(renewal.token, 'renewal time-stamp token');
  }
  const h = a.hashRenewal;
  if (h !== undefined) {
    if (!isRenewalHashAlg(h.hashAlg)) throw invalidField(`hash renewal algorithm ${String(h.hashAlg)}`);
    const n = h.requests.length;
    if (n < 1 || n > MAX_HASH_RENEWALS)
      throw invalidField(`a hash renewal lists 1-${MAX_HASH_RENEWALS} requests`);
    if (h.requests.some((q) => q.length !== HASH_LENGTH))
      throw invalidField('request tx hashes are 32 bytes');
    if (new Set(h.requests.map(toHex)).size !== n) throw invalidField('a hash renewal lists a request twice');
    const { length } = HashAlgs[h.hashAlg];
    if (h.root.length !== length) throw invalidField(`hash renewal root must be ${length} bytes`);
    validateToken(h.token, 'hash renewal time-stamp token');
  }
  if (a.stampRenewals !== undefined) validateStampRenewals(a.stampRenewals, a.height);
}

function validateStampRenewals(list: readonly StampRenewal[], height: number): void {
  if (list.length < 1 || list.length > MAX_STAMP_RENEWALS)
    throw invalidField(`an anchor carries 1-${MAX_STAMP_RENEWALS} stamp renewals`);
  if (new Set(list.map((x) => x.hashAlg)).size !== list.length)
    throw invalidField('an anchor carries one stamp renewal per hash');
  for (const x of list) {
    if (!isRenewalHashAlg(x.hashAlg)) throw invalidField(`stamp renewal algorithm ${String(x.hashAlg)}`);
    if (!Number.isSafeInteger(x.upTo) || x.upTo < 1 || x.upTo >= height) {
      throw invalidField('a stamp renewal must cover stamps anchored below the anchored height');
    }
    const { length } = HashAlgs[x.hashAlg];
    if (x.root.length !== length) throw invalidField(`stamp renewal root must be ${length} bytes`);
    validateToken(x.token, 'stamp renewal time-stamp token');
  }
}

function writeStamp(w: Writer, at: number, root: Uint8Array, token: Uint8Array): void {
  w.varint(at).fixed(root, HASH_LENGTH).bytes(token);
}

function versionOf(a: AnchorRecord): number {
  if (a.stampRenewals !== undefined) return ANCHOR_VERSION_STAMP_RENEWAL;
  if (a.hashRenewal !== undefined) return ANCHOR_VERSION_HASH_RENEWAL;
  if (a.renewal !== undefined) return ANCHOR_VERSION_RENEWAL;
  return a.archive === undefined ? ANCHOR_VERSION : ANCHOR_VERSION_ARCHIVE;
}

export function writeAnchor(w: Writer, a: AnchorRecord): void {
  validateAnchor(a);
  const version = versionOf(a);
  w.u8(version).varint(a.height).fixed(a.headerHash, HASH_LENGTH).bytes(a.token);
  const { archive, renewal } = a;
  if (version === ANCHOR_VERSION_ARCHIVE) writeStamp(w, archive!.from, archive!.root, archive!.token);
  if (version === ANCHOR_VERSION_RENEWAL) {
    w.optional(archive, (w, x) => writeStamp(w, x.from, x.root, x.token));
    writeStamp(w, renewal!.upTo, renewal!.root, renewal!.token);
  }
  if (version < ANCHOR_VERSION_HASH_RENEWAL) return;
  w.optional(archive, (w, x) => writeStamp(w, x.from, x.root, x.token));
  w.optional(renewal, (w, x) => writeStamp(w, x.upTo, x.root, x.token));
  if (version === ANCHOR_VERSION_HASH_RENEWAL) {
    writeHashRenewalStamp(w, a.hashRenewal!);
    return;
  }
  w.optional(a.hashRenewal, writeHashRenewalStamp);
  w.varint(a.stampRenewals!.length);
  for (const x of a.stampRenewals!) {
    w.u8(HashAlgs[x.hashAlg].code).varint(x.upTo).fixed(x.root, HashAlgs[x.hashAlg].length).bytes(x.token);
  }
}

function writeHashRenewalStamp(w: Writer, h: HashRenewalStamp): void {
  w.u8(HashAlgs[h.hashAlg].code).varint(h.requests.length);
  for (const q of h.requests) w.fixed(q, HASH_LENGTH);
  w.fixed(h.root, HashAlgs[h.hashAlg].length).bytes(h.token);
}

function readRenewalAlg(r: Reader, what: string): RenewalHashAlg {
  const code = r.u8(`${what} algorithm`);
  const hashAlg = RenewalHashAlgs.find((a) => HashAlgs[a].code === code);
  if (hashAlg === undefined) throw invalidField(`${what} algorithm code ${code} is not sha384 or sha512`);
  return hashAlg;
}

function readStampRenewal(r: Reader): StampRenewal {
  const hashAlg = readRenewalAlg(r, 'stamp renewal');
  const upTo = r.varint('stamp renewal height');
  const root = r.fixed(HashAlgs[hashAlg].length, 'stamp renewal root');
  return { hashAlg, upTo, root, token: r.bytes(Limits.tsTokenBytes, 'stamp renewal time-stamp token') };
}

function readHashRenewalStamp(r: Reader): HashRenewalStamp {
  const hashAlg = readRenewalAlg(r, 'hash renewal');
  const n = r.varint('hash renewal request count');
  if (n < 1 || n > MAX_HASH_RENEWALS)
    throw invalidField(`a hash renewal lists 1-${MAX_HASH_RENEWALS} requests`);
  const requests = Array.from({ length: n }, () => r.fixed(HASH_LENGTH, 'hash renewal request'));
  const root = r.fixed(HashAlgs[hashAlg].length, 'hash renewal root');
  return { hashAlg, requests, root, token: r.bytes(Limits.tsTokenBytes, 'hash renewal time-stamp token') };
}

function readStamp(r: Reader, what: string): { at: number; root: Uint8Array; token: Uint8Array } {
  return {
    at: r.varint(`${what} height`),
    root: r.fixed(HASH_LENGTH, `${what} root`),
    token: r.bytes(Limits.tsTokenBytes, `${what} time-stamp token`),
  };
}

function readArchive(r: Reader): ArchiveStamp {
  const { at, root, token } = readStamp(r, 'archive');
  return { from: at, root, token };
}

export function readAnchor(r: Reader): AnchorRecord {
  const version = r.u8('anchor record version');
  if (version < ANCHOR_VERSION || version > ANCHOR_VERSION_STAMP_RENEWAL) {
    throw new CodecError(CodecErrorCode.unknownVersion, `unknown anchor record version ${version}`, {
      version,
    });
  }
  const a: AnchorRecord = {
    height: r.varint('anchored height'),
    headerHash: r.fixed(HASH_LENGTH, 'anchored header hash'),
    token: r.bytes(Limits.tsTokenBytes, 'anchor time-stamp token'),
  };
  if (version === ANCHOR_VERSION_ARCHIVE) a.archive = readArchive(r);
  if (version === ANCHOR_VERSION_RENEWAL) {
    const archive = r.optional(readArchive, 'archive');
    if (archive !== undefined) a.archive = archive;
    const { at, root, token } = readStamp(r, 'renewal');
    a.renewal = { upTo: at, root, token };
  }
  if (version >= ANCHOR_VERSION_HASH_RENEWAL) {
    const archive = r.optional(readArchive, 'archive');
    if (archive !== undefined) a.archive = archive;
    const renewal = r.optional((r) => readStamp(r, 'renewal'), 'renewal');
    if (renewal !== undefined) a.renewal = { upTo: renewal.at, root: renewal.root, token: renewal.token };
  }
  if (version === ANCHOR_VERSION_HASH_RENEWAL) a.hashRenewal = readHashRenewalStamp(r);
  if (version === ANCHOR_VERSION_STAMP_RENEWAL) {
    const hashRenewal = r.optional(readHashRenewalStamp, 'hash renewal');
    if (hashRenewal !== undefined) a.hashRenewal = hashRenewal;
    const n = r.varint('stamp renewal count');
    if (n < 1 || n > MAX_STAMP_RENEWALS)
      throw invalidField(`an anchor carries 1-${MAX_STAMP_RENEWALS} stamp renewals`);
    a.stampRenewals = Array.from({ length: n }, () => readStampRenewal(r));
  }
  validateAnchor(a);
  return a;
}

export function encodeAnchor(a: AnchorRecord): Uint8Array {
  const w = new Writer(
    256 +
      a.token.length +
      (a.archive?.token.length ?? 0) +
      (a.renewal?.token.length ?? 0) +
      (a.hashRenewal === undefined ? 0 : a.hashRenewal.token.length + 32 * a.hashRenewal.requests.length) +
      (a.stampRenewals ?? []).reduce((n, x) => n + 80 + x.token.length, 0),
  );
  writeAnchor(w, a);
  return w.finish();
}

export function decodeAnchor(bytes: Uint8Array): AnchorRecord {
  return decodeExact(bytes, Limits.txPayloadBytes, 'anchor record', readAnchor);
}
