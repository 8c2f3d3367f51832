/** JSON views of ledger objects for the API. Hashes are lower-case hex, bytes base64, times ISO-8601 UTC. */

import { decodeAnchor } from '../core/anchor.ts';
import { type AuditHeadRecord, decodeAuditHead } from '../core/audit-head.ts';
import { type BlockHeader, encodeCertificate, headerHash } from '../core/block.ts';
import { toHex } from '../core/bytes.ts';
import { decodeCase } from '../core/case.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { decodeEvidence, type EvidenceRecord } from '../core/evidence.ts';
import type { Genesis } from '../core/genesis.ts';
import {
  decodeGovernance,
  describeAction,
  type GovernanceAction,
  type GovernanceRecord,
} from '../core/governance.ts';
import { decodeHashRenewal } from '../core/hash-renewal.ts';
import { validatorPeerId } from '../core/keys.ts';
import { faultTolerance, quorumSize, type ValidatorSet } from '../core/validators.ts';
import type { GovernanceState, Proposal } from '../ledger/governance-state.ts';
import type { EvidenceEntry, LedgerTx, StoredBlock } from '../ledger/store.ts';
import { caseEventView } from './case-views.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export function evidenceView(e: EvidenceRecord): Record<string, unknown> {
  return {
    hashAlg: e.hashAlg,
    hash: toHex(e.hash),
    caseId: e.caseId,
    evidenceType: e.evidenceType,
    ...(e.mediaType !== undefined ? { mediaType: e.mediaType } : {}),
    ...(e.size !== undefined ? { size: e.size } : {}),
    ...(e.label !== undefined ? { label: e.label } : {}),
    hasTimestampToken: e.tsToken !== undefined,
  };
}

/** One evidence record as it sits on the chain: who recorded it, where and when. */
export function recordView(e: EvidenceEntry): Record<string, unknown> {
  return {
    txHash: e.env.hashHex,
    institution: e.env.tx.institution,
    keyId: e.env.tx.keyId,
    height: e.height,
    index: e.index,
    blockTime: iso(e.blockTime),
    evidence: evidenceView(e.evidence),
  };
}

export const auditHeadView = (a: AuditHeadRecord) => ({ seq: a.seq, hash: toHex(a.hash) });

/** A committed tx as JSON; `suite` is the chain's (its governance records carry keys of it). */
export function txView(t: LedgerTx, suite: CryptoSuite = ED25519_SHA256): Record<string, unknown> {
  const { tx } = t.env;
  let payload: Record<string, unknown>;
  if (tx.type === 'evidence') payload = { evidence: evidenceView(decodeEvidence(tx.payload)) };
  else if (tx.type === 'governance')
    payload = { governance: governanceRecordView(decodeGovernance(tx.payload, suite)) };
  else if (tx.type === 'case') {
    const c = decodeCase(tx.payload);
    payload = { case: { caseId: c.caseId, ...caseEventView(c.event) } };
  } else if (tx.type === 'hash-renewal') {
    const r = decodeHashRenewal(tx.payload);
    payload = {
      hashRenewal: { evidenceTx: toHex(r.evidenceTx), hashAlg: r.hashAlg, hash: toHex(r.hash) },
    };
  } else if (tx.type === 'audit') payload = { audit: auditHeadView(decodeAuditHead(tx.payload)) };
  else {
    const a = decodeAnchor(tx.payload);
    payload = { anchor: { height: a.height, headerHash: toHex(a.headerHash), tokenBytes: a.token.length } };
  }
  return {
    hash: t.env.hashHex,
    type: tx.type,
    chainId: tx.chainId,
    institution: tx.institution,
    keyId: tx.keyId,
    nonce: tx.nonce,
    createdAt: iso(tx.createdAt),
    ttlMs: tx.ttlMs,
    height: t.height,
    index: t.index,
    blockTime: iso(t.blockTime),
    ...payload,
    bytes: Buffer.from(t.env.bytes).toString('base64'),
  };
}

/** `set`: the validator set in force at the block's height (ADR 006), which proposer and signers index. */
export function headerView(h: BlockHeader, set: ValidatorSet): Record<string, unknown> {
  return {
    chainId: h.chainId,
    height: h.height,
    hash: toHex(headerHash(h)),
    prevHash: toHex(h.prevHash),
    txRoot: toHex(h.txRoot),
    txCount: h.txCount,
    proposer: h.proposer,
    proposerInstitution: set.validators[h.proposer]?.institution ?? null,
    view: h.view,
    time: iso(h.time),
    validatorSetHash: toHex(h.validatorSetHash),
  };
}

export function blockView(b: StoredBlock, set: ValidatorSet): Record<string, unknown> {
  return {
    header: headerView(b.header, set),
    hash: toHex(b.hash),
    certificate: {
      view: b.cert.view,
      signers: b.cert.signatures.map((s) => set.validators[s.validator]?.institution ?? `#${s.validator}`),
      // Canonical bytes, so anyone holding the block's validator set can check the signatures
      // (verifyCommitCertificate); the set of each epoch is in GET /v1/governance.
      bytes: Buffer.from(encodeCertificate(b.cert)).toString('base64'),
    },
    txHashes: b.txHashes.map(toHex),
  };
}

/** A governance action as JSON: keys in hex. */
export function actionView(a: GovernanceAction): Record<string, unknown> {
  const out: Record<string, unknown> = { description: describeAction(a) };
  for (const [k, v] of Object.entries(a)) {
    if (v instanceof Uint8Array) out[k] = toHex(v);
    else if (k === 'clientKeys')
      out[k] = (v as { keyId: string; publicKey: Uint8Array }[]).map((c) => ({
        keyId: c.keyId,
        publicKey: toHex(c.publicKey),
      }));
    else out[k] = v;
  }
  return out;
}

export function governanceRecordView(g: GovernanceRecord): Record<string, unknown> {
  return g.kind === 'propose'
    ? { kind: 'propose', deadline: iso(g.deadline), action: actionView(g.action) }
    : { kind: 'approve', proposalId: toHex(g.proposalId) };
}

export function proposalView(p: Proposal): Record<string, unknown> {
  return {
    id: p.idHex,
    status: p.status,
    proposer: p.proposer,
    height: p.height,
    deadline: iso(p.deadline),
    action: actionView(p.action),
    approvals: p.approvals,
    decidedHeight: p.decidedHeight === 0 ? null : p.decidedHeight,
    effectiveHeight: p.effectiveHeight === 0 ? null : p.effectiveHeight,
    note: p.note === '' ? null : p.note,
  };
}

const hexOrNull = (b: Uint8Array | undefined) => (b === undefined ? null : toHex(b));

/**
 * The registry as of the head (ADR 006): the validator set in force for the next block with its quorum, every
 * epoch, the institutions and their client keys, and the proposals (a pending one past its deadline at `time`
 * reads as expired).
 */
export function governanceView(
  g: GovernanceState,
  nextHeight: number,
  time: number,
  genesis: Pick<Genesis, 'validators'> = { validators: [] },
): Record<string, unknown> {
  const epochView = (e: ReturnType<GovernanceState['epochAt']>) => {
    const n = e.set.validators.length;
    return {
      epoch: e.epoch,
      firstHeight: e.firstHeight,
      n,
      f: faultTolerance(n),
      quorum: quorumSize(n),
      validators: e.set.validators.map((v, index) => {
        // On an sm2-sm3 chain the genesis or the governance action that added the validator names its Ed25519
        // peer key (ADR 014).
        const peerKey = g.peerKeyOf(v.publicKey);
        const peerId = validatorPeerId(v.publicKey, genesis, (k) => g.peerKeyOf(k));
        return {
          index,
          institution: v.institution,
          publicKey: toHex(v.publicKey),
          ...(peerKey === undefined ? {} : { peerKey: toHex(peerKey) }),
          peerId: peerId ?? null,
        };
      }),
      params: e.params,
    };
  };
  return {
    validatorSet: epochView(g.epochAt(nextHeight)),
    epochs: g.epochs().map(epochView),
    institutions: g.institutions().map((i) => ({
      id: i.id,
      name: i.name,
      role: i.role,
      clientKeys: Object.fromEntries([...g.clientKeys().get(i.id)!].map(([k, v]) => [k, toHex(v)])),
      revokedKeys: i.revokedKeys,
      encryptionKey: hexOrNull(g.encryptionKeyOf(i.id)),
      auditAccess: g.hasAuditAccess(i.id),
    })),
    proposals: g.proposals(time).map(proposalView),
  };
}
