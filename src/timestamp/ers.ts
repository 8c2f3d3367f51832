/**
 * Builds RFC 4998 evidence records (ADR 012, docs/long-term.md). An archive is one SHA-256 hash tree over
 * document hashes whose root an RFC 3161 token covers, plus the renewals made after it (timestamp renewal,
 * RFC 4998 5.2). One renewal token renews many archives: its tree has one leaf per archive, the hash of the
 * sorted hashes of every timestamp of that archive's chain so far. The renewal's reduced tree starts with
 * those hashes as its first list, so a verifier may check the newest token against each earlier timestamp
 * (as BouncyCastle does), then climbs to the renewal root.
 */

import { equalBytes } from '../core/bytes.ts';
import { encodeRevocationValues } from './crl.ts';
import { TimestampError, TimestampErrorCode } from './errors.ts';
import {
  type ArchiveTimeStamp,
  decodeEvidenceRecord,
  encodeChains,
  encodeEvidenceRecord,
} from './ers-asn1.ts';
import { buildLevels, ersDigest, type IndexedTree, listHash, reduce, rootOf } from './ers-tree.ts';
import { type HashAlg, oidName } from './oids.ts';
import { parseToken } from './response.ts';
import { parseCertificate } from './x509.ts';

/**
 * A renewal token and the leaves of its tree: one per archive it renews, as `renewalLeaf` makes them; or the
 * tree already built from them (renewal trees are immutable once on the ledger, so exports reuse them).
 */
export type Renewal = ({ leaves: readonly Uint8Array[] } | { tree: IndexedTree }) & { token: Uint8Array };

export interface Archive {
  /** The SHA-256 document hashes the archive token's tree covers. */
  leaves: readonly Uint8Array[];
  /** The archive token: its imprint is the root of the tree over `leaves`. */
  token: Uint8Array;
  /** The renewals that cover this archive, in order. */
  renewals: readonly Renewal[];
}

/** The hashes of an archive's timestamps so far: the first list of the next renewal's reduced tree. */
function timestampHashes(tokens: readonly Uint8Array[]): Uint8Array[] {
  return tokens.map((t) => ersDigest('sha256', t));
}

/** An archive's leaf in a renewal tree: it covers every timestamp of the archive's chain so far. */
export function renewalLeaf(tokens: readonly Uint8Array[]): Uint8Array {
  return chainLeaf(timestampHashes(tokens));
}

/** `renewalLeaf` from the SHA-256 of each token (what the archive index keeps). */
export function chainLeaf(tokenHashes: readonly Uint8Array[]): Uint8Array {
  return listHash('sha256', tokenHashes);
}

/** The root a token over `leaves` covers (an archive's, or a renewal's). */
export function archiveRoot(leaves: readonly Uint8Array[]): Uint8Array {
  return rootOf(buildLevels('sha256', leaves));
}

function notALeaf(what: string): TimestampError {
  return new TimestampError(TimestampErrorCode.badInput, `${what} is not a leaf of its tree`);
}

/**
 * The first ArchiveTimeStampChain proving `docHash` (SHA-256) through `archive`: the archive timestamp, then
 * one per renewal. Throws TSA_BAD_INPUT when a hash is not a leaf where it must be.
 */
export function archiveChain(docHash: Uint8Array, archive: Archive): ArchiveTimeStamp[] {
  const reduced = reduce(buildLevels('sha256', archive.leaves), docHash);
  if (reduced === undefined) throw notALeaf('the document hash');
  const first = { digestAlg: 'sha256' as const, reducedHashtree: reduced, timeStamp: archive.token };
  return extendChain('sha256', [first], archive.renewals);
}

/**
 * `chain` followed by one archive timestamp per renewal (RFC 4998 5.2), each under `alg`, the chain's hash:
 * its first list holds the hashes of every timestamp of the chain so far (their list hash is the chain's leaf
 * in the renewal's tree), the further lists climb to the renewal's root. Throws TSA_BAD_INPUT when the chain's
 * leaf is not in a renewal's tree.
 */
export function extendChain(alg: HashAlg, chain: readonly ArchiveTimeStamp[], renewals: readonly Renewal[]) {
  const out = [...chain];
  const tokens = chain.map((a) => a.timeStamp);
  for (const [i, r] of renewals.entries()) {
    const group = tokens.map((t) => ersDigest(alg, t));
    const leaf = listHash(alg, group);
    const path =
      'tree' in r ? reduce(r.tree.levels, leaf, r.tree.position) : reduce(buildLevels(alg, r.leaves), leaf);
    if (path === undefined) throw notALeaf(`the chain in renewal ${i + 1}`);
    const [first, ...rest] = path as [Uint8Array[], ...Uint8Array[][]];
    // The group's hash is the leaf: the group itself replaces it, its sibling (if any) follows on its own.
    const siblings = first.length > 1 ? [first.slice(1), ...rest] : rest;
    out.push({ digestAlg: alg, reducedHashtree: [group, ...siblings], timeStamp: r.token });
    tokens.push(r.token);
  }
  return out;
}

/**
 * The leaf a hash-tree renewal under `alg` covers (RFC 4998 5.2): H(H(document) || H(DER of the earlier
 * chains)), from `docHash` = H(document).
 */
export function hashRenewalLeaf(alg: HashAlg, docHash: Uint8Array, chains: readonly ArchiveTimeStamp[][]) {
  return ersDigest(alg, docHash, ersDigest(alg, encodeChains(chains)));
}

/**
 * The DER EvidenceRecord proving `docHash` (SHA-256) through `archive`, then through `later` chains (a
 * hash-tree renewal made on the ledger, ADR 016). cryptoInfos carries `certificates` (the TSA trust anchors),
 * the certificates every token of the chains embeds, and `crls` (DER CertificateLists) as revocation values,
 * so a verifier can validate the TSA paths later. Throws TSA_BAD_INPUT when a hash is not a leaf where it
 * must be.
 */
export function evidenceRecord(
  docHash: Uint8Array,
  archive: Archive,
  certificates: readonly Uint8Array[] = [],
  crls: readonly Uint8Array[] = [],
  later: readonly ArchiveTimeStamp[][] = [],
): Uint8Array {
  const chains = [archiveChain(docHash, archive), ...later];
  const algs = chains.map((c) => c[0]!.digestAlg).filter((a, i, all) => all.indexOf(a) === i);
  const embedded = chains.flat().flatMap((a) => embeddedCertificates(a.timeStamp));
  return encodeEvidenceRecord({
    digestAlgs: algs,
    certificates: distinct([...certificates, ...embedded]),
    revocationValues: crls.length === 0 ? undefined : encodeRevocationValues(crls),
    chains,
  });
}

/** The certificates a token embeds; none when it does not parse. */
function embeddedCertificates(token: Uint8Array): Uint8Array[] {
  try {
    return parseToken(token).signedData?.certificates ?? [];
  } catch {
    return [];
  }
}

function distinct(ders: readonly Uint8Array[]): Uint8Array[] {
  return ders.filter((d, i) => ders.findIndex((e) => equalBytes(d, e)) === i);
}

/**
 * When a token's protection lapses, as far as the token itself tells: the earliest notAfter of the
 * certificates it embeds. Undefined when it embeds none or does not parse. The renewal job plans with this;
 * verifiers judge with the validated path (`validUntil`).
 */
export function tokenExpiry(token: Uint8Array): Date | undefined {
  try {
    const certs = parseToken(token).signedData?.certificates ?? [];
    if (certs.length === 0) return undefined;
    return new Date(Math.min(...certs.map((c) => parseCertificate(c).notAfter.getTime())));
  } catch {
    return undefined;
  }
}

/** A token's genTime in ms, or undefined when it does not parse. */
export function tokenGenTime(token: Uint8Array): number | undefined {
  try {
    return parseToken(token).tstInfo?.genTime.getTime();
  } catch {
    return undefined;
  }
}

/**
 * Hash-tree renewal (RFC 4998 5.2) by whoever holds the document: the value a token under `alg` must cover to
 * start a new chain, H(H(document) || H(DER of the record's chains)), and the record with that chain appended
 * once the token is made. Throws TSA_UNPARSABLE when the record does not decode.
 */
export function hashTreeRenewal(record: Uint8Array, document: Uint8Array, alg: HashAlg) {
  const r = decodeEvidenceRecord(record);
  const leaf = hashRenewalLeaf(alg, ersDigest(alg, document), r.chains);
  const append = (token: Uint8Array): Uint8Array =>
    encodeEvidenceRecord({
      ...r,
      digestAlgs: r.digestAlgs.includes(alg) ? r.digestAlgs : [...r.digestAlgs, alg],
      chains: [...r.chains, [{ digestAlg: alg, reducedHashtree: [[leaf]], timeStamp: token }]],
    });
  return { leaf, append };
}

/**
 * The algorithms a token relies on, by name (as `oidName` prints them, e.g. `sha256`, `ecdsa-with-SHA256`) and
 * by dotted OID: its imprint hash, and each signer's digest and signature algorithms. Empty when it does not
 * parse. A renewal policy compares them with the algorithms it deems deprecated.
 */
export function tokenAlgorithms(token: Uint8Array): string[] {
  try {
    const t = parseToken(token);
    const oids = [
      ...(t.tstInfo ? [t.tstInfo.imprint.hashAlgOid] : []),
      ...(t.signedData?.signerInfos ?? []).flatMap((s) => [s.digestAlgorithm, s.signatureAlgorithm.oid]),
    ];
    return [...new Set(oids.flatMap((o) => [o, oidName(o)]))];
  } catch {
    return [];
  }
}
