/**
 * Negative controls for the cluster invariant checker (as Jepsen keeps a deliberately broken run): on a
 * correct chain it finds nothing, and each kind of broken chain (a fork, a certificate short of a quorum or
 * badly signed, a doctored header, a tx committed twice, a lost or misplaced acknowledged tx, a tx nobody sent,
 * an anchor that does not verify) is reported. Without these, a checker that never fails would pass every
 * scenario.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { blockView } from '../../src/api/views.ts';
import { type CommitCertificate, headerHash } from '../../src/core/block.ts';
import { toHex } from '../../src/core/bytes.ts';
import { type Genesis, genesisHash } from '../../src/core/genesis.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import { buildChain, type TestBlock } from '../helpers/certified-chain.ts';
import { anchorTx, certify, docHash, evidenceTx, testGenesis } from '../helpers/fixtures.ts';
import { buildToken, makePki, type Pki, T0 } from '../helpers/tsa.ts';
import { type BlockJson, type CheckInput, checkChains } from './harness/checker.ts';

let pki: Pki;
let g: Genesis;
let blocks: TestBlock[];
const ev = (n: number) =>
  evidenceTx({ nonce: n, createdAt: T0, evidence: { hash: docHash(`doc-${n}`), caseId: 'CASE-C' } });
const [e1, e2, e3, e4] = [1, 2, 3, 4].map(ev) as [TxEnvelope, TxEnvelope, TxEnvelope, TxEnvelope];

function anchorFor(block: TestBlock, token = buildToken(pki, { digest: block.hash })): TxEnvelope {
  return anchorTx({ height: block.header.height, headerHash: block.hash, token }, { createdAt: T0 });
}

function views(chain: TestBlock[]): BlockJson[] {
  return chain.map(
    (b) =>
      JSON.parse(
        JSON.stringify(
          blockView({ header: b.header, hash: b.hash, cert: b.cert, txHashes: b.txs.map((t) => t.hash) }, g),
        ),
      ) as BlockJson,
  );
}

/**
 * Input over `chains`: the txs of `known` are served by hash, and its evidence txs were submitted and
 * acknowledged where `known` has them.
 */
function input(
  chains: BlockJson[][],
  over: Partial<CheckInput> = {},
  known: TestBlock[] = blocks,
): CheckInput {
  const all = new Map<string, TxEnvelope>();
  for (const b of known) for (const t of b.txs) all.set(t.hashHex, t);
  const evidence = [...all.values()].filter((t) => t.tx.type === 'evidence');
  const height = new Map<string, number>();
  for (const b of known) for (const t of b.txs) height.set(t.hashHex, b.header.height);
  return {
    genesis: g,
    chains: chains.map((c, i) => ({ node: `node-${i}`, blocks: c })),
    acked: new Map(evidence.map((t) => [t.hashHex, height.get(t.hashHex)!])),
    submitted: new Set(evidence.map((t) => t.hashHex)),
    txBytes: async (h) => all.get(h)!.bytes,
    ...over,
  };
}

beforeAll(async () => {
  pki = await makePki();
  g = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
  const first = buildChain(g, [[e1, e2], [e3]], T0);
  blocks = buildChain(g, [[e1, e2], [e3], [anchorFor(first[1]!), e4]], T0);
});

describe('the cluster invariant checker', () => {
  it('finds nothing wrong with one certified chain served by every node, a shorter copy included', async () => {
    const v = views(blocks);
    const r = await checkChains(input([v, v, v.slice(0, 2)]));
    expect(r).toEqual({ violations: [], height: 3, txs: 5, anchors: 1, anchoredHeight: 2, certificates: 8 });
  });

  it('reports a fork', async () => {
    const other = buildChain(
      g,
      [
        [e1, e2],
        [e3, e4],
      ],
      T0,
    );
    const r = await checkChains(input([views(blocks), views(other)]));
    expect(r.violations.join('\n')).toMatch(/fork at height 2: node-1 has/);
  });

  it('reports a certificate short of a quorum, or with a signature that does not verify', async () => {
    const short: TestBlock[] = blocks.map((b, i) =>
      i === 1 ? { ...b, cert: certify(b.header, b.header.view, [0, 1], genesisHash(g)) } : b,
    );
    expect((await checkChains(input([views(short)]))).violations).toEqual([
      'node-0 block 2: commit certificate: 2 signatures, quorum is 3 of 4',
    ]);
    const forged: CommitCertificate = certify(blocks[0]!.header, 7, [0, 1, 2], genesisHash(g)); // signed for view 7, claims view 0
    const bad = blocks.map((b, i) => (i === 0 ? { ...b, cert: { ...forged, view: 0 } } : b));
    expect((await checkChains(input([views(bad)]))).violations.join('\n')).toMatch(
      /block 1: commit certificate: bad signature from validator 0/,
    );
  });

  it('reports a header served with doctored fields', async () => {
    const v = views(blocks);
    v[2]!.header.time = new Date(Date.parse(v[2]!.header.time) + 1).toISOString();
    const r = await checkChains(input([v]));
    expect(r.violations.join('\n')).toMatch(/block 3: header hashes to [0-9a-f]{64}, served as/);
  });

  it('reports a tx committed twice, an acknowledged tx lost or elsewhere, and a tx nobody submitted', async () => {
    const twice = buildChain(g, [[e1, e2], [e3], [e1]], T0);
    expect((await checkChains(input([views(twice)]))).violations).toContain(
      `tx ${e1.hashHex} committed 2 times, at 1,3`,
    );
    const acked = new Map([
      [e1.hashHex, 2],
      [toHex(docHash('never-committed')), 1],
    ]);
    expect((await checkChains(input([views(blocks)], { acked }))).violations).toEqual([
      `acknowledged tx ${e1.hashHex} at height 2, but the chain has it at 1`,
      `acknowledged tx ${toHex(docHash('never-committed'))} (height 1) is not in the chain`,
    ]);
    const submitted = new Set([e1.hashHex, e2.hashHex, e3.hashHex]);
    expect((await checkChains(input([views(blocks)], { submitted }))).violations).toEqual([
      `tx ${e4.hashHex} at height 3: an evidence tx nobody submitted`,
    ]);
  });

  it('reports an anchor whose token does not verify, or that names a header the chain does not have', async () => {
    const first = buildChain(g, [[e1, e2], [e3]], T0);
    const tampered = buildToken(pki, { digest: first[1]!.hash, tamperSignature: true });
    const badToken = buildChain(g, [[e1, e2], [e3], [anchorFor(first[1]!, tampered)]], T0);
    expect((await checkChains(input([views(badToken)], {}, badToken))).violations.join('\n')).toMatch(
      /at height 3: token fails signature/,
    );
    const stranger = { ...first[1]!, hash: headerHash({ ...first[1]!.header, time: 1 }) };
    const wrong = buildChain(g, [[e1, e2], [e3], [anchorFor(stranger)]], T0);
    expect((await checkChains(input([views(wrong)], {}, wrong))).violations.join('\n')).toMatch(
      /anchors a header hash block 2 does not have/,
    );
  });
});
