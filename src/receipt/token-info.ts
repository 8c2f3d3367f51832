/**
 * Who stamped a verified receipt's time: for the anchor token and the evidence's own token, the TSA's time and
 * its certificate path to the trust anchor, for the verification page to show. Only meaningful after
 * `verifyReceipt` passed: it re-runs the RFC 3161 checks to learn the path, and reports nothing on failure.
 */
import { fromBase64, fromHex } from '../core/bytes.ts';
import { decodeEvidence } from '../core/evidence.ts';
import { type Genesis, genesisSuite } from '../core/genesis.ts';
import { parseTx } from '../core/tx.ts';
import type { HashAlg } from '../timestamp/oids.ts';
import { verifyTimestampAsync } from '../timestamp/verify.ts';
import { parsePemCertificates } from '../timestamp/x509.ts';

export interface TokenInfo {
  which: 'anchor' | 'evidence';
  genTime: Date;
  /** Subjects from the TSA's certificate to the trust anchor. */
  chain: string[];
}

async function infoOf(
  which: TokenInfo['which'],
  token: Uint8Array,
  digest: Uint8Array,
  pem: string,
  hashAlg?: HashAlg,
) {
  const r = await verifyTimestampAsync(token, {
    trustAnchors: parsePemCertificates(pem, 'TSA trust anchors'),
    digest,
    ...(hashAlg ? { hashAlg } : {}),
  });
  return r.ok ? [{ which, genTime: r.genTime, chain: r.chainSubjects }] : [];
}

export async function tokenInfo(
  receipt: unknown,
  genesis: Genesis,
  tsaTrustAnchorsPem?: string,
): Promise<TokenInfo[]> {
  const pem = tsaTrustAnchorsPem ?? genesis.tsa.trustAnchors.join('\n');
  if (pem.trim() === '') return [];
  try {
    const r = receipt as { tx: string; anchor: { token: string; headerHash: string } | null };
    const out: TokenInfo[] = [];
    if (r.anchor !== null) {
      // The anchor stamps the header hash: SHA-256, or SM3 on an sm2-sm3 chain (ADR 014).
      const alg = genesisSuite(genesis).hashName;
      out.push(
        ...(await infoOf('anchor', fromBase64(r.anchor.token), fromHex(r.anchor.headerHash), pem, alg)),
      );
    }
    const evidence = decodeEvidence(parseTx(fromBase64(r.tx)).tx.payload);
    if (evidence.tsToken !== undefined) {
      out.push(...(await infoOf('evidence', evidence.tsToken, evidence.hash, pem)));
    }
    return out;
  } catch {
    return [];
  }
}
