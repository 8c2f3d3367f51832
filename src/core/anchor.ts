/**
 * The anchor record: the payload of an `anchor` tx. It binds a committed block to RFC 3161 trusted time: the
 * token's message imprint is the block's header hash (SHA-256; the 32-byte header hash itself is the hashed
 * message). Because every header links to its parent by hash, one token proves that the anchored block and
 * every block before it existed no later than the token's genTime.
 */
import { CodecError, CodecErrorCode, decodeExact, invalidField, type Reader, Writer } from './codec.ts';
import { HASH_LENGTH } from './crypto.ts';
import { Limits } from './limits.ts';

/** Version 1: no archive timestamp. Version 2 adds one; a record without one is still written as version 1. */
export const ANCHOR_VERSION = 1;
export const ANCHOR_VERSION_ARCHIVE = 2;

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

export interface AnchorRecord {
  /** Height of the anchored block (>= 1). */
  height: number;
  /** That block's header hash; also the token's message imprint. */
  headerHash: Uint8Array;
  /** Bare RFC 3161 TimeStampToken, DER. */
  token: Uint8Array;
  archive?: ArchiveStamp;
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
  const { archive } = a;
  if (archive === undefined) return;
  if (!Number.isSafeInteger(archive.from) || archive.from < 1 || archive.from > a.height) {
    throw invalidField('the archive timestamp must cover blocks from 1 to the anchored height');
  }
  if (archive.root.length !== HASH_LENGTH) throw invalidField(`archive root must be ${HASH_LENGTH} bytes`);
  validateToken(archive.token, 'archive time-stamp token');
}

export function writeAnchor(w: Writer, a: AnchorRecord): void {
  validateAnchor(a);
  w.u8(a.archive === undefined ? ANCHOR_VERSION : ANCHOR_VERSION_ARCHIVE);
  w.varint(a.height).fixed(a.headerHash, HASH_LENGTH).bytes(a.token);
  if (a.archive !== undefined) {
    w.varint(a.archive.from).fixed(a.archive.root, HASH_LENGTH).bytes(a.archive.token);
  }
}

export function readAnchor(r: Reader): AnchorRecord {
  const version = r.u8('anchor record version');
  if (version !== ANCHOR_VERSION && version !== ANCHOR_VERSION_ARCHIVE) {
    throw new CodecError(CodecErrorCode.unknownVersion, `unknown anchor record version ${version}`, {
      version,
    });
  }
  const a: AnchorRecord = {
    height: r.varint('anchored height'),
    headerHash: r.fixed(HASH_LENGTH, 'anchored header hash'),
    token: r.bytes(Limits.tsTokenBytes, 'anchor time-stamp token'),
  };
  if (version === ANCHOR_VERSION_ARCHIVE) {
    a.archive = {
      from: r.varint('archive from height'),
      root: r.fixed(HASH_LENGTH, 'archive root'),
      token: r.bytes(Limits.tsTokenBytes, 'archive time-stamp token'),
    };
  }
  validateAnchor(a);
  return a;
}

export function encodeAnchor(a: AnchorRecord): Uint8Array {
  const w = new Writer(96 + a.token.length + (a.archive?.token.length ?? 0));
  writeAnchor(w, a);
  return w.finish();
}

export function decodeAnchor(bytes: Uint8Array): AnchorRecord {
  return decodeExact(bytes, Limits.txPayloadBytes, 'anchor record', readAnchor);
}
