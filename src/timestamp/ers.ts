/**
 * Builds RFC 4998 evidence records (ADR 012, docs/long-term.md). An archive is one SHA-256 hash tree over
 * document hashes whose root an RFC 3161 token covers, plus the renewal tokens made after it (timestamp
 * renewal, RFC 4998 5.2). A renewal token covers the hash of every earlier timeStamp of the chain listed in one
 * partial hash tree, so that a verifier may check the newest token against each of them (as BouncyCastle does).
 */

import { TimestampError, TimestampErrorCode } from './errors.ts';
import { type ArchiveTimeStamp, encodeEvidenceRecord } from './ers-asn1.ts';
import { buildLevels, ersDigest, listHash, type ReducedHashtree, reduce, rootOf } from './ers-tree.ts';

export interface Archive {
  /** The SHA-256 document hashes the first token's tree covers. */
  leaves: readonly Uint8Array[];
  /** The first token (its imprint the tree root), then each renewal token in order. */
  tokens: readonly Uint8Array[];
}

/** The reduced hash tree a renewal token carries: the hashes of every earlier timeStamp of the chain. */
export function renewalTree(earlierTokens: readonly Uint8Array[]): ReducedHashtree {
  return [earlierTokens.map((t) => ersDigest('sha256', t))];
}

/** The imprint a renewal token made after `earlierTokens` must carry. */
export function renewalImprint(earlierTokens: readonly Uint8Array[]): Uint8Array {
  return listHash('sha256', renewalTree(earlierTokens)[0]!);
}

/** The root the first token of an archive over `leaves` covers. */
export function archiveRoot(leaves: readonly Uint8Array[]): Uint8Array {
  return rootOf(buildLevels('sha256', leaves));
}

/**
 * The DER EvidenceRecord proving `docHash` (SHA-256) through `archive`. `certificates` go to cryptoInfos to
 * help a verifier build the TSA paths. Throws TSA_BAD_INPUT when the hash is not a leaf.
 */
export function evidenceRecord(
  docHash: Uint8Array,
  archive: Archive,
  certificates: readonly Uint8Array[] = [],
): Uint8Array {
  const reduced = reduce(buildLevels('sha256', archive.leaves), docHash);
  if (reduced === undefined) {
    throw new TimestampError(TimestampErrorCode.badInput, 'the document hash is not a leaf of the archive');
  }
  const chain: ArchiveTimeStamp[] = archive.tokens.map((timeStamp, i) => ({
    digestAlg: 'sha256',
    reducedHashtree: i === 0 ? reduced : renewalTree(archive.tokens.slice(0, i)),
    timeStamp,
  }));
  return encodeEvidenceRecord({
    digestAlgs: ['sha256'],
    certificates: [...certificates],
    revocationValues: undefined,
    chains: [chain],
  });
}
