/**
 * The archive index (ADR 016): one small entry per anchor that carries an RFC 4998 archive timestamp or a
 * timestamp renewal (ADR 012), keyed by anchored height. It holds what evidence records are built from, the
 * roots and the SHA-256 of each token (a renewal tree's leaves are hashes of tokens), plus where the anchor
 * tx is; so exporting a record reads the covering anchor by index, the index's entries and the few renewal
 * txs that cover it, never every anchor tx. It is a function of each anchor record alone, so the Level store
 * writes it with the block (layout.ts) and the integrity check recomputes it like any other entry.
 */
import type { AnchorRecord } from '../core/anchor.ts';
import { decodeExact, expectVersion, type Reader, Writer } from '../core/codec.ts';
import { HASH_LENGTH, sha256 } from '../core/crypto.ts';

export interface IndexedStamp {
  /** `from` for an archive, `upTo` for a renewal. */
  readonly at: number;
  readonly root: Uint8Array;
  /** SHA-256 of the DER token. */
  readonly tokenHash: Uint8Array;
}

export interface ArchiveIndexEntry {
  /** The anchored height: the anchor record's `height`. */
  readonly anchored: number;
  /** The anchor tx's place. */
  readonly height: number;
  readonly index: number;
  readonly archive?: IndexedStamp;
  readonly renewal?: IndexedStamp;
}

const VERSION = 1;

/** Whether an anchor belongs in the stamp index (0x13, ADR 018): it carries a hash-renewal stamp or renewals. */
export function carriesStamp(a: AnchorRecord): boolean {
  return a.hashRenewal !== undefined || (a.stampRenewals?.length ?? 0) > 0;
}

/** The entry for an anchor record committed at (height, index); undefined when it carries neither stamp. */
export function archiveIndexEntry(
  a: AnchorRecord,
  height: number,
  index: number,
): ArchiveIndexEntry | undefined {
  if (a.archive === undefined && a.renewal === undefined) return undefined;
  const stamp = (at: number, root: Uint8Array, token: Uint8Array) => ({ at, root, tokenHash: sha256(token) });
  return {
    anchored: a.height,
    height,
    index,
    ...(a.archive ? { archive: stamp(a.archive.from, a.archive.root, a.archive.token) } : {}),
    ...(a.renewal ? { renewal: stamp(a.renewal.upTo, a.renewal.root, a.renewal.token) } : {}),
  };
}

const writeStamp = (w: Writer, s: IndexedStamp) =>
  w.varint(s.at).fixed(s.root, HASH_LENGTH).fixed(s.tokenHash, HASH_LENGTH);
const readStamp = (r: Reader): IndexedStamp => ({
  at: r.varint('stamp height'),
  root: r.fixed(HASH_LENGTH, 'stamp root'),
  tokenHash: r.fixed(HASH_LENGTH, 'stamp token hash'),
});

/** v1, anchored, height, index (varints), then each stamp behind a presence byte. */
export function encodeArchiveEntry(e: ArchiveIndexEntry): Uint8Array {
  const w = new Writer(200).u8(VERSION).varint(e.anchored).varint(e.height).varint(e.index);
  w.optional(e.archive, writeStamp);
  w.optional(e.renewal, writeStamp);
  return w.finish();
}

export function decodeArchiveEntry(b: Uint8Array): ArchiveIndexEntry {
  return decodeExact(b, 200, 'archive index entry', (r) => {
    expectVersion(r, VERSION, 'archive index entry');
    const anchored = r.varint('anchored height');
    const height = r.varint('height');
    const index = r.varint('index');
    const archive = r.optional(readStamp, 'archive');
    const renewal = r.optional(readStamp, 'renewal');
    return {
      anchored,
      height,
      index,
      ...(archive ? { archive } : {}),
      ...(renewal ? { renewal } : {}),
    };
  });
}
