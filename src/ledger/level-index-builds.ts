/**
 * The index builds a data directory written by an older version gets once, on open (each index has a marker
 * key; docs/ledger.md), and the two helpers every reader of stored values uses. level-store.ts owns the
 * LevelDB handle; this module sees it through `IndexDb`.
 */
import { decodeAnchor } from '../core/anchor.ts';
import { InvariantError } from '../core/errors.ts';
import { parseTx } from '../core/tx.ts';
import { archiveIndexEntry, carriesStamp, encodeArchiveEntry } from './archive-index.ts';
import {
  ANCHOR_PREFIX,
  ARCHIVE_INDEX_KEY,
  ARCHIVE_INDEX_MARKER,
  archiveKey,
  decodeLocation,
  GOVERNANCE_INDEX_KEY,
  GOVERNANCE_INDEX_MARKER,
  governanceKey,
  HASH_RENEWAL_AT_PREFIX,
  HASH_RENEWAL_PREFIX,
  positionOfKey,
  prefixEnd,
  STAMP_INDEX_KEY,
  STAMP_INDEX_MARKER,
  stampKey,
  TX_AT_PREFIX,
  txAtKey,
  withPosition,
} from './layout.ts';

interface Range {
  gte: Uint8Array;
  lt: Uint8Array;
}

/** What the index builds use of the LevelDB handle. */
export interface IndexDb {
  values(range: Range): AsyncIterable<Uint8Array>;
  iterator(range: Range): AsyncIterable<[Uint8Array, Uint8Array]>;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  batch(): {
    put(key: Uint8Array, value: Uint8Array): unknown;
    write(opts: { sync: boolean }): Promise<void>;
  };
}

/** Level hands back Buffers; callers get plain Uint8Arrays, like the memory store's. */
export function view(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Decodes a stored value; a failure means the store is corrupt, which must stop the node. */
export function stored<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    throw new InvariantError(`stored ${what} does not decode: ${(err as Error).message}`);
  }
}

/**
 * Data directories written before the governance index (0x0b) have no marker: the index is built once from
 * the stored txs. Only a store that ever wrote a governance snapshot can hold governance txs (a block that
 * includes one always writes it), so for every other store the marker alone is written.
 */
export async function buildGovernanceIndex(db: IndexDb, hasGovernance: boolean): Promise<void> {
  const batch = db.batch();
  if (hasGovernance) {
    for await (const [k, v] of db.iterator({ gte: TX_AT_PREFIX, lt: prefixEnd(TX_AT_PREFIX) })) {
      const at = positionOfKey(view(k), false);
      const env = stored(`tx ${at.height}/${at.index}`, () => parseTx(view(v)));
      if (env.tx.type === 'governance') batch.put(governanceKey(at.height, at.index), new Uint8Array(0));
    }
  }
  batch.put(GOVERNANCE_INDEX_KEY, GOVERNANCE_INDEX_MARKER);
  await batch.write({ sync: true });
}

/** Every committed anchor, from the anchor index (0x0a) and the tx it points at; for the index rebuilds. */
async function* storedAnchors(db: IndexDb) {
  for await (const v of db.values({ gte: ANCHOR_PREFIX, lt: prefixEnd(ANCHOR_PREFIX) })) {
    const location = view(v);
    const at = stored('anchor location', () => decodeLocation(location));
    const bytes = await db.get(txAtKey(at.height, at.index));
    if (bytes === undefined) throw new InvariantError(`stored anchor tx ${at.height}/${at.index} is missing`);
    const env = stored(`tx ${at.height}/${at.index}`, () => parseTx(view(bytes)));
    yield {
      at,
      location,
      anchor: stored(`anchor ${at.height}/${at.index}`, () => decodeAnchor(env.tx.payload)),
    };
  }
}

/**
 * Data directories written before the archive index (0x0f, ADR 016) have no marker: the index is built once
 * from the anchor index (0x0a) and the anchor txs it points at.
 */
export async function buildArchiveIndex(db: IndexDb): Promise<void> {
  const batch = db.batch();
  for await (const { at, anchor } of storedAnchors(db)) {
    const entry = archiveIndexEntry(anchor, at.height, at.index);
    if (entry !== undefined) batch.put(archiveKey(entry.anchored), encodeArchiveEntry(entry));
  }
  batch.put(ARCHIVE_INDEX_KEY, ARCHIVE_INDEX_MARKER);
  await batch.write({ sync: true });
}

/**
 * Data directories written before the stamp index (0x13) and the request list (0x14, ADR 018) have no marker
 * 00 06: both are built once, from the anchor index (0x0a) and the hash-renewal index (0x10).
 */
export async function buildStampIndex(db: IndexDb): Promise<void> {
  const batch = db.batch();
  for await (const { location, anchor } of storedAnchors(db)) {
    if (carriesStamp(anchor)) batch.put(stampKey(anchor.height), location);
  }
  for await (const v of db.values({ gte: HASH_RENEWAL_PREFIX, lt: prefixEnd(HASH_RENEWAL_PREFIX) })) {
    const at = stored('hash renewal location', () => decodeLocation(view(v)));
    batch.put(withPosition(HASH_RENEWAL_AT_PREFIX, at), new Uint8Array(0));
  }
  batch.put(STAMP_INDEX_KEY, STAMP_INDEX_MARKER);
  await batch.write({ sync: true });
}
