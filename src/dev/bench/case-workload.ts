/**
 * A seeded, realistic dispute-case history (docs/benchmark.md "Case workload"): banks, mediation organisations,
 * courts and a regulator in a genesis of their own; cases opened over months, assigned, mediated in sessions,
 * agreed (68.9 % of mediated cases) or failed, some withdrawn before mediation, about one agreement in six
 * applied for judicial confirmation, evidence from the parties. Everything derives from the seed, so a run is
 * reproducible, and txs come out packed into blocks in time order, ready for LedgerChain.
 */
import { type BlockHeader, type CommitCertificate, commitVoteBody, headerHash } from '../../core/block.ts';
import { toHex, utf8 } from '../../core/bytes.ts';
import { agreementSigningBody, type CaseEvent, encodeCase } from '../../core/case.ts';
import { Domain, Ed25519Signer, sha256 } from '../../core/crypto.ts';
import { encodeEvidence } from '../../core/evidence.ts';
import { GENESIS_FORMAT, type Genesis, parseGenesis } from '../../core/genesis.ts';
import type { InstitutionRole } from '../../core/roles.ts';
import { envelope, signTx, type TxEnvelope } from '../../core/tx.ts';
import { consensusChainId, quorumSize } from '../../core/validators.ts';

export const WORKLOAD_CHAIN_ID = 'jrchain-cases-bench';
const START = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface CaseWorkloadOptions {
  cases: number;
  /** Evidence records per case (the seed's 240,000 over 60,000 cases: 4). */
  evidencePerCase: number;
  seed: number;
  /** Cases are opened evenly over this many days. */
  days?: number;
}

export interface WorkloadBlock {
  time: number;
  txs: TxEnvelope[];
}

/** mulberry32: a small seeded PRNG, enough for a workload mix. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const signerOf = (label: string) => new Ed25519Signer(sha256(utf8.encode(`jrchain-case-workload:${label}`)));

/** The alliance: 12 banks (the first four run validators), 3 mediation organisations, 2 courts, a regulator. */
export const WORKLOAD_INSTITUTIONS: readonly { id: string; role: InstitutionRole }[] = [
  ...Array.from({ length: 12 }, (_, i) => ({ id: `bank-${i + 1}`, role: 'bank' as const })),
  ...Array.from({ length: 3 }, (_, i) => ({ id: `mediator-${i + 1}`, role: 'mediator' as const })),
  { id: 'court-1', role: 'court' },
  { id: 'court-2', role: 'court' },
  { id: 'regulator-1', role: 'regulator' },
];
const BANKS = WORKLOAD_INSTITUTIONS.filter((i) => i.role === 'bank').map((i) => i.id);
const MEDIATORS = WORKLOAD_INSTITUTIONS.filter((i) => i.role === 'mediator').map((i) => i.id);
const COURTS = WORKLOAD_INSTITUTIONS.filter((i) => i.role === 'court').map((i) => i.id);
const VALIDATORS = BANKS.slice(0, 4);

export function workloadGenesis(): Genesis {
  return parseGenesis({
    format: GENESIS_FORMAT,
    chainId: WORKLOAD_CHAIN_ID,
    createdAt: new Date(START - DAY).toISOString(),
    institutions: WORKLOAD_INSTITUTIONS.map((i) => ({
      id: i.id,
      name: i.id.toUpperCase(),
      role: i.role,
      clientKeys: [{ keyId: 'client-1', publicKey: toHex(signerOf(`${i.id}/client`).publicKey) }],
    })),
    validators: VALIDATORS.map((id, i) => ({
      institution: id,
      publicKey: toHex(signerOf(`${id}/validator`).publicKey),
      addrs: [`/ip4/127.0.0.1/tcp/${7100 + i}`],
    })),
  });
}

/**
 * A certificate from a quorum of the workload's validators for the chain of `genesis` (the workload genesis's
 * hash); the bench drives the ledger without consensus.
 */
export function certifyWorkloadBlock(header: BlockHeader, genesis: Uint8Array): CommitCertificate {
  const hash = headerHash(header);
  const body = commitVoteBody(consensusChainId(header.chainId, genesis, 0), header.view, header.height, hash);
  const signatures = VALIDATORS.slice(0, quorumSize(VALIDATORS.length)).map((id, i) => ({
    validator: i,
    signature: signerOf(`${id}/validator`).sign(Domain.commit, body),
  }));
  return { height: header.height, view: header.view, headerHash: hash, signatures };
}

/** One planned tx: a case event or an evidence record, by whom and when. */
interface Planned {
  time: number;
  seq: number;
  caseId: string;
  institution: string;
  event?: CaseEvent;
  evidence?: number;
}

/** The events of one case, in order, following the outcome mix. */
function planCase(n: number, opts: CaseWorkloadOptions, rnd: () => number, out: Planned[]): void {
  const caseId = `2025-CC-${String(n).padStart(7, '0')}`;
  const bank = BANKS[Math.floor(rnd() * BANKS.length)]!;
  const mediator = MEDIATORS[Math.floor(rnd() * MEDIATORS.length)]!;
  const days = opts.days ?? 365;
  let t = START + Math.floor((n / opts.cases) * days * DAY + rnd() * HOUR);
  const add = (institution: string, event: CaseEvent | undefined, evidence?: number) =>
    out.push({ time: t, seq: out.length, caseId, institution, event, evidence });
  add(bank, { type: 'open', respondent: bank, claimant: sha256(utf8.encode(`claimant ${n} ${opts.seed}`)) });
  for (let e = 0; e < opts.evidencePerCase; e++) {
    t += Math.floor(rnd() * 2 * HOUR);
    add(e % 2 === 0 ? bank : mediator, undefined, e);
  }
  if (rnd() < 0.04) {
    t += HOUR;
    add(bank, { type: 'withdraw' });
    return;
  }
  t += Math.floor(rnd() * 4 * HOUR);
  add(bank, { type: 'assign', mediator });
  // Mediation time: gamma(2) with a 32-hour mean; one session per started day.
  const mediation = Math.floor(-16 * HOUR * (Math.log(1 - rnd()) + Math.log(1 - rnd())));
  const end = t + mediation;
  for (let s = 1; s === 1 || t + DAY < end; s++) {
    t = Math.min(t + (s === 1 ? HOUR : DAY), end);
    add(mediator, { type: 'session', seq: s });
  }
  t = Math.max(t, end);
  if (rnd() >= 0.689) {
    add(mediator, { type: 'fail', reason: 'noAgreement' });
    return;
  }
  add(mediator, { type: 'agree', agreementHash: sha256(utf8.encode(`agreement ${caseId}`)) });
  let refused = false;
  if (rnd() < 0.177) {
    t += 2 * DAY;
    const court = COURTS[n % COURTS.length]!;
    add(mediator, { type: 'applyConfirmation', court });
    t += 10 * DAY;
    refused = rnd() >= 0.985;
    const decision = refused ? 'refused' : 'confirmed';
    add(court, { type: 'decide', decision, rulingHash: sha256(utf8.encode(`ruling ${caseId}`)) });
  }
  t += 30 * DAY;
  if (!refused) add(bank, { type: 'milestone', seq: 1, kind: 'fullyPerformed' });
  add(mediator, { type: 'close' });
}

/** Signs one planned tx; case events link to the case's previous event, agreements carry the bank's signature. */
/** Per case: the last event's tx hash (the next one's `prev`) and the respondent bank (the agreement's co-signer). */
interface CaseLinks {
  last: Map<string, Uint8Array>;
  respondents: Map<string, string>;
}

function signPlanned(p: Planned, chain: CaseLinks, nonce: number): TxEnvelope {
  let payload: Uint8Array;
  if (p.event === undefined) {
    payload = encodeEvidence({
      hashAlg: 'sha256',
      hash: sha256(utf8.encode(`evidence ${p.caseId} ${p.evidence}`)),
      caseId: p.caseId,
      evidenceType: p.evidence === 0 ? 'contract' : 'statement',
    });
  } else {
    let event = p.event;
    if (event.type === 'agree') {
      const bankId = chain.respondents.get(p.caseId)!;
      const body = agreementSigningBody(WORKLOAD_CHAIN_ID, p.caseId, event.agreementHash);
      const signature = signerOf(`${bankId}/client`).sign(Domain.caseAgreement, body);
      event = { ...event, coSignature: { institution: bankId, keyId: 'client-1', signature } };
    }
    payload = encodeCase({ caseId: p.caseId, prev: chain.last.get(p.caseId), event });
  }
  const env = envelope(
    signTx(
      {
        chainId: WORKLOAD_CHAIN_ID,
        type: p.event === undefined ? 'evidence' : 'case',
        institution: p.institution,
        keyId: 'client-1',
        nonce,
        createdAt: p.time,
        ttlMs: DAY,
        payload,
      },
      signerOf(`${p.institution}/client`),
    ),
  );
  if (p.event?.type === 'open') chain.respondents.set(p.caseId, p.event.respondent);
  if (p.event !== undefined) chain.last.set(p.caseId, env.hash);
  return env;
}

/**
 * The whole history as blocks in time order: at most `blockTxs` txs a block, and a block spans at most 12 hours
 * so every tx is well within its 24-hour validity at the block time (the time of its last tx).
 */
export function* caseWorkloadBlocks(opts: CaseWorkloadOptions, blockTxs = 2000): Generator<WorkloadBlock> {
  const rnd = prng(opts.seed);
  const planned: Planned[] = [];
  for (let n = 0; n < opts.cases; n++) planCase(n, opts, rnd, planned);
  planned.sort((a, b) => a.time - b.time || a.seq - b.seq);
  const links: CaseLinks = { last: new Map(), respondents: new Map() };
  let block: WorkloadBlock = { time: 0, txs: [] };
  for (const [i, p] of planned.entries()) {
    if (
      block.txs.length >= blockTxs ||
      (block.txs.length > 0 && p.time - block.txs[0]!.tx.createdAt > 12 * HOUR)
    ) {
      yield block;
      block = { time: 0, txs: [] };
    }
    block.txs.push(signPlanned(p, links, i + 1));
    block.time = p.time;
  }
  if (block.txs.length > 0) yield block;
}
