/**
 * The anchor record: the payload of an `anchor` tx. It binds a committed block to RFC 3161 trusted time: the
 * token's message imprint is the block's header hash (SHA-256; the 32-byte header hash itself is the hashed
 * message). Because every header links to its parent by hash, one token proves that the anchored block and
 * every block before it existed no later than the token's genTime.
 */
import { decodeExact, expectVersion, invalidField, type Reader, Writer } from './codec.ts';
import { HASH_LENGTH } from './crypto.ts';
import { Limits } from './limits.ts';

export const ANCHOR_VERSION = 1;

export interface AnchorRecord {
  /** Height of the anchored block (>= 1). */
  height: number;
  /** That block's header hash; also the token's message imprint. */
  headerHash: Uint8Array;
  /** Bare RFC 3161 TimeStampToken, DER. */
  token: Uint8Array;
}

function validateAnchor(a: AnchorRecord): void {
  if (!Number.isSafeInteger(a.height) || a.height < 1) throw invalidField('anchored height must be >= 1');
  if (a.headerHash.length !== HASH_LENGTH)
    throw invalidField(`anchored header hash must be ${HASH_LENGTH} bytes`);
  if (a.token.length === 0 || a.token.length > Limits.tsTokenBytes) {
    throw invalidField(`anchor time-stamp token must be 1-${Limits.tsTokenBytes} bytes`);
  }
}

export function writeAnchor(w: Writer, a: AnchorRecord): void {
  validateAnchor(a);
  w.u8(ANCHOR_VERSION).varint(a.height).fixed(a.headerHash, HASH_LENGTH).bytes(a.token);
}

export function readAnchor(r: Reader): AnchorRecord {
  expectVersion(r, ANCHOR_VERSION, 'anchor record');
  const a: AnchorRecord = {
    height: r.varint('anchored height'),
    headerHash: r.fixed(HASH_LENGTH, 'anchored header hash'),
    token: r.bytes(Limits.tsTokenBytes, 'anchor time-stamp token'),
  };
  validateAnchor(a);
  return a;
}

export function encodeAnchor(a: AnchorRecord): Uint8Array {
  const w = new Writer(48 + a.token.length);
  writeAnchor(w, a);
  return w.finish();
}

export function decodeAnchor(bytes: Uint8Array): AnchorRecord {
  return decodeExact(bytes, Limits.txPayloadBytes, 'anchor record', readAnchor);
}
