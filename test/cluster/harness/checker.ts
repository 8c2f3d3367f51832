/**
 * The invariants every cluster scenario ends with, checked black-box from what honest validators serve:
 *
 * 1. Agreement: every honest validator's chain is a prefix of one chain (same header hashes at every height).
 * 2. Validity of every block: its header (rebuilt from the API's fields) hashes to the hash served, links to
 *    its parent (block 1 to the genesis), names the validator set in force at its height, and carries a
 *    commit certificate a quorum of that set signed (`verifyCommitCertificate`), on every validator's copy. The
 *    set in force is recomputed here from the genesis and the chain's governance txs (ADR 006): each must be
 *    signed by a validator of the set in force and valid by the registry's rules, and the checker applies it.
 * 3. Every acknowledged tx is committed exactly once, at the height it was acknowledged at; no tx appears
 *    twice anywhere in the chain.
 * 4. Every other tx is an anchor whose RFC 3161 token verifies against the genesis trust anchors and covers
 *    the header hash of the block it names (`verifyTimestamp`), or a governance tx the test submitted.
 *
 * `checkChains` is pure over the collected data, so it is tested on its own with tampered chains (the
 * negative controls in test/cluster/checker.test.ts prove each check can fail).
 */
import { decodeAnchor } from '../../../src/core/anchor.ts';
import {
  type BlockHeader,
  decodeCertificate,
  headerHash,
  verifyCommitCertificate,
} from '../../../src/core/block.ts';
import { equalBytes, fromHex, toHex } from '../../../src/core/bytes.ts';
import { type Genesis, genesisHash, genesisValidatorSet } from '../../../src/core/genesis.ts';
import { decodeGovernance } from '../../../src/core/governance.ts';
import { parseTx, VALIDATOR_KEY_ID, verifyTxEnvelope } from '../../../src/core/tx.ts';
import { epochOf, type ValidatorSet, validatorSetHash } from '../../../src/core/validators.ts';
import { GovernanceState } from '../../../src/ledger/governance-state.ts';
import { parsePemCertificates, verifyTimestamp } from '../../../src/timestamp/index.ts';

/** GET /v1/blocks/:height (docs/api.md). */
export interface BlockJson {
  header: {
    chainId: string;
    height: number;
    hash: string;
    prevHash: string;
    txRoot: string;
    txCount: number;
    proposer: number;
    view: number;
    time: string;
    validatorSetHash: string;
  };
  hash: string;
  certificate: { view: number; signers: string[]; bytes: string };
  txHashes: string[];
}

export interface ChainSnapshot {
  /** Whose chain (an institution id). */
  node: string;
  /** Blocks 1..head, in order. */
  blocks: BlockJson[];
}

export interface CheckInput {
  genesis: Genesis;
  chains: ChainSnapshot[];
  /** Txs acknowledged as committed, with the height they were acknowledged at (hex hash → height). */
  acked: ReadonlyMap<string, number>;
  /** Every tx the load generator sent; any other tx in the chain must be an anchor (or in `governance`). */
  submitted: ReadonlySet<string>;
  /** Governance txs the test submitted (hex hashes); no other governance tx may be in the chain. */
  governance?: ReadonlySet<string>;
  /** The canonical bytes of a committed tx (GET /v1/txs/:hash). */
  txBytes(hashHex: string): Promise<Uint8Array>;
}

export interface CheckReport {
  violations: string[];
  /** Height of the longest honest chain. */
  height: number;
  txs: number;
  anchors: number;
  /** Highest block an anchor covers. */
  anchoredHeight: number;
  certificates: number;
}

/** The header a block view describes (every field is there; the hash check proves nothing was lost). */
export function headerOf(b: BlockJson): BlockHeader {
  const h = b.header;
  return {
    chainId: h.chainId,
    height: h.height,
    prevHash: fromHex(h.prevHash),
    txRoot: fromHex(h.txRoot),
    txCount: h.txCount,
    proposer: h.proposer,
    view: h.view,
    time: Date.parse(h.time),
    validatorSetHash: fromHex(h.validatorSetHash),
  };
}

const MAX_REPORTED = 20;

export async function checkChains(input: CheckInput): Promise<CheckReport> {
  const violations: string[] = [];
  const fail = (msg: string) => {
    if (violations.length < MAX_REPORTED) violations.push(msg);
    else if (violations.length === MAX_REPORTED) violations.push('(more violations not shown)');
  };
  let certificates = 0;

  // 1. One chain: every copy agrees with the longest at every height it has.
  const longest = input.chains.reduce<ChainSnapshot | undefined>(
    (best, c) => (best === undefined || c.blocks.length > best.blocks.length ? c : best),
    undefined,
  );
  const canonical = longest?.blocks ?? [];
  for (const { node, blocks } of input.chains) {
    for (const [i, b] of blocks.entries()) {
      if (b.hash !== canonical[i]!.hash) {
        fail(`fork at height ${i + 1}: ${node} has ${b.hash}, ${longest!.node} has ${canonical[i]!.hash}`);
        break;
      }
    }
  }

  // The validator set in force at each height: the genesis set, then what the chain's governance txs made it.
  const bytesOf = new Map<string, Uint8Array>();
  const fetchBytes = async (h: string) => {
    let b = bytesOf.get(h);
    if (b === undefined) {
      b = await input.txBytes(h);
      bytesOf.set(h, b);
    }
    return b;
  };
  const gov = GovernanceState.fromGenesis(input.genesis);
  const sets: ValidatorSet[] = [];
  for (const [i, b] of canonical.entries()) {
    const height = i + 1;
    const set = gov.epochAt(height).set;
    sets.push(set);
    for (const h of b.txHashes) {
      if (input.submitted.has(h) || !(input.governance?.has(h) ?? false)) continue;
      try {
        const env = parseTx(await fetchBytes(h));
        if (env.hashHex !== h || env.tx.type !== 'governance')
          throw new Error('not the governance tx submitted');
        const signer = set.validators.find((v) => v.institution === env.tx.institution);
        if (
          env.tx.keyId !== VALIDATOR_KEY_ID ||
          signer === undefined ||
          !verifyTxEnvelope(env, signer.publicKey)
        )
          throw new Error('not signed by a validator of the set in force');
        const rejection = gov.apply(env, decodeGovernance(env.tx.payload), height, Date.parse(b.header.time));
        if (rejection !== undefined) throw new Error(`${rejection.code}: ${rejection.message}`);
      } catch (err) {
        fail(`governance tx ${h} at height ${height}: ${(err as Error).message}`);
      }
    }
  }

  // 2. Every block on every copy.
  const gHash = genesisHash(input.genesis);
  for (const { node, blocks } of input.chains) {
    let prev = gHash;
    for (const [i, b] of blocks.entries()) {
      const where = `${node} block ${i + 1}`;
      const header = headerOf(b);
      const hash = headerHash(header);
      if (header.height !== i + 1) fail(`${where}: header height ${header.height}`);
      if (toHex(hash) !== b.hash || b.header.hash !== b.hash)
        fail(`${where}: header hashes to ${toHex(hash)}, served as ${b.hash}`);
      if (header.chainId !== input.genesis.chainId) fail(`${where}: chain id ${header.chainId}`);
      if (!equalBytes(header.prevHash, prev)) fail(`${where}: prevHash does not link to block ${i}`);
      const set = sets[i] ?? genesisValidatorSet(input.genesis);
      if (!equalBytes(header.validatorSetHash, validatorSetHash(set)))
        fail(`${where}: not the validator set in force (epoch ${epochOf(set)})`);
      if (header.txCount !== b.txHashes.length)
        fail(`${where}: ${b.txHashes.length} txs, header says ${header.txCount}`);
      try {
        const cert = decodeCertificate(new Uint8Array(Buffer.from(b.certificate.bytes, 'base64')));
        verifyCommitCertificate(cert, header, set, gHash);
        certificates++;
      } catch (err) {
        fail(`${where}: commit certificate: ${(err as Error).message}`);
      }
      prev = hash;
    }
  }

  // 3. Txs: each at most once in the chain; each acknowledged one exactly once, where it was acknowledged.
  const at = new Map<string, number[]>();
  for (const [i, b] of canonical.entries()) {
    for (const h of b.txHashes) at.set(h, [...(at.get(h) ?? []), i + 1]);
  }
  for (const [h, heights] of at)
    if (heights.length > 1) fail(`tx ${h} committed ${heights.length} times, at ${heights}`);
  for (const [h, height] of input.acked) {
    const found = at.get(h);
    if (found === undefined) fail(`acknowledged tx ${h} (height ${height}) is not in the chain`);
    else if (found[0] !== height)
      fail(`acknowledged tx ${h} at height ${height}, but the chain has it at ${found}`);
  }

  // 4. Anything not from the load generator is an anchor that verifies.
  const roots = input.genesis.tsa.trustAnchors;
  const trustAnchors = roots.length === 0 ? [] : parsePemCertificates(roots.join('\n'), 'genesis TSA roots');
  let anchors = 0;
  let anchoredHeight = 0;
  for (const [h, heights] of at) {
    if (input.submitted.has(h) || (input.governance?.has(h) ?? false)) continue;
    const where = `tx ${h} at height ${heights[0]}`;
    try {
      const env = parseTx(await fetchBytes(h));
      if (env.hashHex !== h) throw new Error(`served bytes hash to ${env.hashHex}`);
      if (env.tx.type !== 'anchor') throw new Error(`an ${env.tx.type} tx nobody submitted`);
      const a = decodeAnchor(env.tx.payload);
      const covered = canonical[a.height - 1];
      if (a.height >= heights[0]! || covered === undefined)
        throw new Error(`anchors height ${a.height}, not below its own block`);
      if (toHex(a.headerHash) !== covered.hash)
        throw new Error(`anchors a header hash block ${a.height} does not have`);
      const v = verifyTimestamp(a.token, { digest: a.headerHash, hashAlg: 'sha256', trustAnchors });
      if (!v.ok) throw new Error(`token fails ${v.failedCheck}: ${v.reason}`);
      anchors++;
      anchoredHeight = Math.max(anchoredHeight, a.height);
    } catch (err) {
      fail(`${where}: ${(err as Error).message}`);
    }
  }
  return { violations, height: canonical.length, txs: at.size, anchors, anchoredHeight, certificates };
}
