/**
 * The DER of RFC 4998 evidence records (section 3; the module uses IMPLICIT tags):
 *
 *   EvidenceRecord ::= SEQUENCE { version INTEGER { v1(1) }, digestAlgorithms SEQUENCE OF AlgorithmIdentifier,
 *     cryptoInfos [0] CryptoInfos OPTIONAL, encryptionInfo [1] EncryptionInfo OPTIONAL,
 *     archiveTimeStampSequence ArchiveTimeStampSequence }
 *   ArchiveTimeStampSequence ::= SEQUENCE OF ArchiveTimeStampChain
 *   ArchiveTimeStampChain ::= SEQUENCE OF ArchiveTimeStamp
 *   ArchiveTimeStamp ::= SEQUENCE { digestAlgorithm [0] AlgorithmIdentifier OPTIONAL,
 *     attributes [1] Attributes OPTIONAL, reducedHashtree [2] SEQUENCE OF PartialHashtree OPTIONAL,
 *     timeStamp ContentInfo }
 *   PartialHashtree ::= SEQUENCE OF OCTET STRING
 *
 * Certificates travel in cryptoInfos as one id-aa-ets-certValues attribute (RFC 5126), CRLs as one
 * id-aa-ets-revocationValues attribute. Encrypted records (encryptionInfo) and ATS attributes are refused.
 */
import { concatBytes } from '../core/bytes.ts';
import {
  childrenOf,
  ctx,
  DerReader,
  der,
  derError,
  type Element,
  expectTag,
  readOctets,
  readOid,
  readSmallInt,
  Tag,
  tlv,
} from './asn1.ts';
import type { ReducedHashtree } from './ers-tree.ts';
import { type HashAlg, HashAlgs, hashAlgByOid } from './oids.ts';

export const ErsOid = {
  certValues: '1.2.840.113549.1.9.16.2.23',
  revocationValues: '1.2.840.113549.1.9.16.2.24',
} as const;

export interface ArchiveTimeStamp {
  digestAlg: HashAlg;
  /** Absent when the token's imprint is the protected hash itself. */
  reducedHashtree: ReducedHashtree | undefined;
  /** The RFC 3161 TimeStampToken (a ContentInfo), DER. */
  timeStamp: Uint8Array;
}

export interface EvidenceRecord {
  digestAlgs: HashAlg[];
  /** Certificates that help validate the tokens (never trusted by themselves), DER. */
  certificates: Uint8Array[];
  /** The RevocationValues (RFC 5126) as encoded, when the record carries revocation data. */
  revocationValues: Uint8Array | undefined;
  /** ArchiveTimeStampChains in order; each chain's archive timestamps in order. */
  chains: ArchiveTimeStamp[][];
}

const algId = (alg: HashAlg) => der.seq(der.oid(HashAlgs[alg].oid));

function encodeAts(a: ArchiveTimeStamp): Uint8Array {
  const parts = [der.implicit(0, algId(a.digestAlg))];
  if (a.reducedHashtree !== undefined) {
    const lists = a.reducedHashtree.map((list) => der.seq(...list.map((v) => der.octets(v))));
    parts.push(tlv(ctx(2, true), concatBytes(...lists)));
  }
  parts.push(a.timeStamp);
  return der.seq(...parts);
}

export function encodeChain(chain: readonly ArchiveTimeStamp[]): Uint8Array {
  return der.seq(...chain.map(encodeAts));
}

/** The DER of an ArchiveTimeStampSequence of `chains`: what hash-tree renewal hashes (RFC 4998 5.2). */
export function encodeChains(chains: readonly ArchiveTimeStamp[][]): Uint8Array {
  return der.seq(...chains.map(encodeChain));
}

export function encodeEvidenceRecord(r: EvidenceRecord): Uint8Array {
  const attrs: Uint8Array[] = [];
  if (r.certificates.length > 0) {
    attrs.push(der.seq(der.oid(ErsOid.certValues), der.setOf([der.seq(...r.certificates)])));
  }
  if (r.revocationValues !== undefined) {
    attrs.push(der.seq(der.oid(ErsOid.revocationValues), der.setOf([r.revocationValues])));
  }
  return der.seq(
    der.int(1n),
    der.seq(...r.digestAlgs.map(algId)),
    ...(attrs.length > 0 ? [tlv(ctx(0, true), concatBytes(...attrs))] : []),
    encodeChains(r.chains),
  );
}

/** An AlgorithmIdentifier, as a SEQUENCE or (IMPLICIT) under `tag`. */
function readAlgId(el: Element, what: string, tag: number = Tag.sequence): HashAlg {
  const r = new DerReader(expectTag(el, tag, what), what);
  const oid = readOid(r.next(Tag.oid, 'algorithm'), `${what}.algorithm`);
  if (r.peekTag() === Tag.null) r.next(Tag.null, 'parameters');
  r.end();
  const alg = hashAlgByOid(oid);
  if (alg === undefined) throw derError(`${what}: unsupported digest algorithm ${oid}`);
  return alg;
}

function readAts(el: Element, what: string): ArchiveTimeStamp {
  const r = new DerReader(expectTag(el, Tag.sequence, what), what);
  const alg = r.optional(ctx(0, true));
  if (r.peekTag() === ctx(1, true)) throw derError(`${what}: archive timestamp attributes are not supported`);
  const tree = r.optional(ctx(2, true));
  const timeStamp = r.next(Tag.sequence, 'timeStamp').raw;
  r.end();
  if (alg === undefined) throw derError(`${what}: digestAlgorithm is required here`);
  const reducedHashtree = tree
    ? childrenOf(tree, `${what}.reducedHashtree`).map((list, i) => {
        const values = childrenOf(expectTag(list, Tag.sequence, `${what}.reducedHashtree[${i}]`), what);
        if (values.length === 0) throw derError(`${what}.reducedHashtree[${i}] is empty`);
        return values.map((v) => readOctets(v, `${what}.reducedHashtree[${i}]`));
      })
    : undefined;
  if (reducedHashtree?.length === 0) throw derError(`${what}.reducedHashtree is empty`);
  return { digestAlg: readAlgId(alg, `${what}.digestAlgorithm`, ctx(0, true)), reducedHashtree, timeStamp };
}

function readCryptoInfos(el: Element): Pick<EvidenceRecord, 'certificates' | 'revocationValues'> {
  const out: Pick<EvidenceRecord, 'certificates' | 'revocationValues'> = {
    certificates: [],
    revocationValues: undefined,
  };
  for (const attr of childrenOf(el, 'cryptoInfos')) {
    const r = new DerReader(expectTag(attr, Tag.sequence, 'cryptoInfos attribute'), 'cryptoInfos attribute');
    const type = readOid(r.next(Tag.oid, 'attrType'), 'cryptoInfos attrType');
    const values = childrenOf(r.next(Tag.set, 'attrValues'), 'cryptoInfos attrValues');
    r.end();
    // Other attributes (e.g. algorithm suitability) are informative; this verifier does not rely on them.
    if (type === ErsOid.certValues) {
      for (const v of values) out.certificates.push(...childrenOf(v, 'certValues').map((c) => c.raw));
    } else if (type === ErsOid.revocationValues && values[0] !== undefined) {
      out.revocationValues = values[0].raw;
    }
  }
  return out;
}

/** Decodes an EvidenceRecord. Throws TSA_UNPARSABLE when the bytes are not one. */
export function decodeEvidenceRecord(bytes: Uint8Array): EvidenceRecord {
  const r = DerReader.of(bytes, Tag.sequence, 'EvidenceRecord');
  readSmallInt(r.next(Tag.integer, 'version'), 'EvidenceRecord.version', 1, 1);
  const digestAlgs = childrenOf(r.next(Tag.sequence, 'digestAlgorithms'), 'digestAlgorithms').map((a, i) =>
    readAlgId(a, `digestAlgorithms[${i}]`),
  );
  const infos = r.optional(ctx(0, true));
  if (r.peekTag() === ctx(1, true)) throw derError('EvidenceRecord: encrypted records are not supported');
  const seq = r.next(Tag.sequence, 'archiveTimeStampSequence');
  r.end();
  const chains = childrenOf(seq, 'archiveTimeStampSequence').map((chain, i) => {
    const items = childrenOf(expectTag(chain, Tag.sequence, `chain[${i}]`), `chain[${i}]`);
    if (items.length === 0) throw derError(`chain[${i}] holds no archive timestamp`);
    return items.map((a, j) => readAts(a, `chain[${i}][${j}]`));
  });
  if (chains.length === 0) throw derError('EvidenceRecord: archiveTimeStampSequence is empty');
  return {
    digestAlgs,
    ...(infos ? readCryptoInfos(infos) : { certificates: [], revocationValues: undefined }),
    chains,
  };
}
