/** Evidence-record fixtures: documents, an archive over them, and a renewal by a second TSA certificate. */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { issueCertificate } from '../../src/timestamp/certs.ts';
import { archiveRoot, renewalImprint } from '../../src/timestamp/ers.ts';
import { Oid } from '../../src/timestamp/oids.ts';
import type { EmbeddedTsa } from '../../src/timestamp/tsa.ts';
import { KeyUsageBit, parseCertificate } from '../../src/timestamp/x509.ts';
import { DAY, makePki, type Pki, startTsa, T0 } from './tsa.ts';

export const docs = Array.from({ length: 5 }, (_, i) =>
  new TextEncoder().encode(`mediation agreement ${i}\n`),
);
export const sha256Of = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/** The first TSA certificate expires at T0 + 365 days; the renewing one, issued by the same root, much later. */
export const FIRST_EXPIRY = T0 + 365 * DAY;
export const RENEWED_AT = T0 + 300 * DAY;

/** A TSA certificate from the same root, valid from `notBefore` for ten years, and its TSA at `at`. */
export async function renewingTsa(pki: Pki, at: number): Promise<EmbeddedTsa> {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = issueCertificate({
    subject: [
      ['O', 'JRChain Test'],
      ['CN', 'Test TSA 2'],
    ],
    publicKey: keys.publicKey,
    issuer: pki.root,
    signingKey: pki.rootKey,
    notBefore: new Date(at - DAY),
    notAfter: new Date(at + 3000 * DAY),
    keyUsage: [KeyUsageBit.digitalSignature],
    extKeyUsage: { purposes: [Oid.kpTimeStamping], critical: true },
  });
  return startTsa({ ...pki, tsa: parseCertificate(der), tsaKey: keys.privateKey }, at);
}

export interface ArchiveFixture {
  pki: Pki;
  leaves: Uint8Array[];
  /** The archive token at T0, then the renewal token at RENEWED_AT. */
  tokens: Uint8Array[];
}

export async function archiveFixture(): Promise<ArchiveFixture> {
  const pki = await makePki();
  const leaves = docs.map(sha256Of);
  const first = await startTsa(pki, T0);
  const token = (await first.stamp(archiveRoot(leaves), 'sha256')).token;
  await first.stop();
  const second = await renewingTsa(pki, RENEWED_AT);
  const renewal = (await second.stamp(renewalImprint([token]), 'sha256')).token;
  await second.stop();
  return { pki, leaves, tokens: [token, renewal] };
}
