/** Evidence-record fixtures: documents, an archive over them, and a renewal by a second TSA certificate. */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/crypto.ts';
import type { Genesis } from '../../src/core/genesis.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import type { ChainHead } from '../../src/ledger/chain.ts';
import { LedgerChain } from '../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../src/ledger/queries.ts';
import { issueCertificate } from '../../src/timestamp/certs.ts';
import { type Archive, archiveRoot, renewalLeaf } from '../../src/timestamp/ers.ts';
import { createGenesisTokenVerifier } from '../../src/timestamp/genesis-verifier.ts';
import { Oid } from '../../src/timestamp/oids.ts';
import type { EmbeddedTsa } from '../../src/timestamp/tsa.ts';
import { KeyUsageBit, parseCertificate } from '../../src/timestamp/x509.ts';
import { batchOf, runBlock } from './chain.ts';
import { anchorTx, evidenceTx, TEST_GENESIS_TIME } from './fixtures.ts';
import { DAY, makePki, type Pki, startTsa, T0 } from './tsa.ts';

export const docs = Array.from({ length: 5 }, (_, i) =>
  new TextEncoder().encode(`mediation agreement ${i}\n`),
);
export const sha256Of = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/** The first TSA certificate expires at T0 + 365 days; the renewing one, issued by the same root, much later. */
export const FIRST_EXPIRY = T0 + 365 * DAY;
export const RENEWED_AT = T0 + 300 * DAY;

/** A TSA certificate from the same root, valid from a day before `at` on, and its TSA (clock: `at`, or `clock`). */
export async function renewingTsa(pki: Pki, at: number, clock?: () => number): Promise<EmbeddedTsa> {
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
  return startTsa(
    { ...pki, tsa: parseCertificate(der), tsaKey: keys.privateKey },
    at,
    clock ? { clock } : {},
  );
}

/** An archive by the first TSA at T0, renewed by the second at RENEWED_AT. */
export interface ArchiveFixture extends Archive {
  pki: Pki;
}

/** The archive without its renewal. */
export const unrenewed = (fx: Archive): Archive => ({ leaves: fx.leaves, token: fx.token, renewals: [] });

export async function archiveFixture(): Promise<ArchiveFixture> {
  const pki = await makePki();
  const leaves = docs.map(sha256Of);
  const first = await startTsa(pki, T0);
  const token = (await first.stamp(archiveRoot(leaves), 'sha256')).token;
  await first.stop();
  const second = await renewingTsa(pki, RENEWED_AT);
  // A renewal of this archive and of another one, so that its reduced tree climbs a level.
  const renewalLeaves = [renewalLeaf([token]), sha256(utf8.encode('another archive'))];
  const renewal = (await second.stamp(archiveRoot(renewalLeaves), 'sha256')).token;
  await second.stop();
  return { pki, leaves, token, renewals: [{ leaves: renewalLeaves, token: renewal }] };
}

const T = TEST_GENESIS_TIME;
export const documents = ['loan contract', 'repayment record', 'mediation agreement'].map((s) =>
  utf8.encode(s),
);

/** A ledger whose genesis trusts `pki`, with three documents recorded in blocks 1 and 2. */
export async function archiveChain(genesis: Genesis) {
  const verifier = createGenesisTokenVerifier(genesis.tsa);
  const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis, {
    tokenVerifier: verifier,
    anchorVerifier: verifier,
  });
  const queries = new LedgerQueries(chain.store, genesis);
  const records = documents.map((d, i) => evidenceTx({ nonce: i + 1, evidence: { hash: sha256(d) } }));
  await runBlock(chain, batchOf(records.slice(0, 2), T + 1000));
  await runBlock(chain, batchOf(records.slice(2), T + 2000));
  return { chain, queries, records };
}

/** An anchor of `head` whose archive timestamp covers blocks `from`.. with `root` (default: the true root). */
export async function archiveAnchor(
  pki: Pki,
  queries: LedgerQueries,
  head: ChainHead,
  at: number,
  o: { from?: number; root?: Uint8Array; tsaPki?: Pki } = {},
): Promise<TxEnvelope> {
  const tsa = await startTsa(o.tsaPki ?? pki, at);
  try {
    const from = o.from ?? 1;
    const root = o.root ?? archiveRoot(await queries.archiveLeaves(from, head.height));
    const { token } = await tsa.stamp(head.hash, 'sha256');
    const archive = { from, root, token: (await tsa.stamp(root, 'sha256')).token };
    return anchorTx(
      { height: head.height, headerHash: head.hash, token, archive },
      { validator: 1, createdAt: at },
    );
  } finally {
    await tsa.stop();
  }
}
