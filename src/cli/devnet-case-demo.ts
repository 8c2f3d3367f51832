/**
 * The devnet demo's dispute case (docs/cases.md): with bank-a and bank-b as banks, bank-c as the mediation
 * organisation and bank-d as the court (or court-a through its observer node, with `--observer`), one case runs from the complaint to judicial confirmation and closure,
 * another ends in failed mediation; then the first case's receipt is fetched from another node and verified
 * offline, and the statistics are printed.
 */
import { utf8 } from '../core/bytes.ts';
import { agreementSigningBody, type CaseEvent } from '../core/case.ts';
import { Domain, sha256 } from '../core/crypto.ts';
import { loadGenesisFile } from '../core/genesis-file.ts';
import type { DevnetManifest, DevnetNode } from '../dev/devnet.ts';
import { waitFor } from '../dev/processes.ts';
import { verifyCaseReceipt } from '../receipt/case-verify.ts';
import { recordCaseEvent } from './case.ts';
import { newStoredCase, sealedClaimant } from './case-sealing.ts';
import { ApiClient } from './client.ts';
import { importCases, prepareSealing, type Sealing, sealDemoEvent } from './devnet-sealing.ts';
import { type Identity, resolveIdentity } from './evidence.ts';

/** The institutions of the demo: the first four devnet institutions, by role. */
interface Parties {
  bank: Identity & { client: ApiClient };
  otherBank: Identity & { client: ApiClient };
  mediator: Identity & { client: ApiClient };
  court: Identity & { client: ApiClient };
}

async function parties(m: DevnetManifest): Promise<Parties> {
  const at = async (n: DevnetNode) => {
    const client = new ApiClient(n.apiUrl);
    return { ...(await resolveIdentity(client, n.clientKey)), client };
  };
  const [bank, otherBank, mediator] = [m.nodes[0]!, m.nodes[1]!, m.nodes[2]!];
  // A devnet with an observer: the court records its decision through its own node.
  const court = await at(m.observer ?? m.nodes[3]!);
  return { bank: await at(bank), otherBank: await at(otherBank), mediator: await at(mediator), court };
}

const doc = (label: string) => sha256(utf8.encode(label));

/** The height of the block that holds tx `txHash`, once it is committed. */
function committedHeight(client: ApiClient, txHash: string): Promise<number> {
  return waitFor(
    `case tx ${txHash} to commit`,
    async () => {
      const t = await client.request<{ height?: number }>('GET', `/v1/txs/${txHash}`);
      return t.status === 200 ? t.body.height : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

/** The demo's claimant reference: never on the chain, only its keyed commitment (ADR 011). */
export const DEMO_CLAIMANT_REF = 'ID 110101199003074321';

type Party = Identity & { client: ApiClient };

/**
 * Records one sealed event as `who`, after its node caught up with the events before, importing the case key
 * from the chain first when the case was wrapped for it (as `jrchain case sync` does).
 */
function stepper(sealing: Map<string, Sealing>, out: (s: string) => void) {
  let height = 0;
  return async (who: Party, caseId: string, event: CaseEvent): Promise<number> => {
    // Each party reads the case from its own node: let that node catch up with the last event first, or it
    // may answer from before the event that made this party a reader of the case.
    if (height > 0) await who.client.request('GET', `/v1/blocks/${height}?wait=10000`);
    const s = sealing.get(who.institution)!;
    if (event.type !== 'open' && s.store.byCaseId(caseId) === undefined)
      await importCases(who.client, who.institution, s);
    const sealed = await sealDemoEvent(who.client, who.institution, s, caseId, { caseId, event });
    const r = await recordCaseEvent(who.client, who, sealed, true);
    // The next party judges and unwraps against committed state: on a loaded machine the commit may come
    // after the node stopped waiting.
    r.height ??= await committedHeight(who.client, r.txHash);
    height = Math.max(height, r.height);
    out(`  ${who.institution.padEnd(8)} ${event.type.padEnd(18)} ${r.status} at height ${r.height}`);
    return height;
  };
}

/**
 * Runs both cases, sealed (ADR 011), and verifies the first one's receipt offline; true when it verified. The
 * case ids travel only inside the sealed details: the chain names each case by its reference.
 */
export async function runCaseDemo(m: DevnetManifest, out: (s: string) => void): Promise<boolean> {
  if (m.nodes.length < 4) {
    out('case demo: needs at least 4 institutions (two banks, a mediator, a court); skipped');
    return true;
  }
  const p = await parties(m);
  const sealing = await prepareSealing(m, out);
  const step = stepper(sealing, out);
  const id = `DEMO-${Date.now()}`;
  out(
    `case demo: ${id}, a complaint against ${p.bank.institution}, mediated by ${p.mediator.institution}, confirmed by ${p.court.institution}`,
  );
  const opened = newStoredCase(sealing.get(p.bank.institution)!.store, id);
  const ref = opened.ref;
  out(`case demo: on the chain ${id} is ${ref}; its id and the claimant are sealed under the case key`);
  const claimant = sealedClaimant(opened, DEMO_CLAIMANT_REF);
  await step(p.bank, id, { type: 'open', respondent: p.bank.institution, claimant });
  await step(p.bank, id, { type: 'assign', mediator: p.mediator.institution });
  await step(p.mediator, id, { type: 'session', seq: 1, minutesHash: doc(`${id} minutes 1`) });
  const agreementHash = doc(`${id} agreement`);
  const body = agreementSigningBody(p.bank.chainId, ref, agreementHash);
  const coSignature = {
    institution: p.bank.institution,
    keyId: p.bank.keyId,
    signature: p.bank.key.signer.sign(Domain.caseAgreement, body),
  };
  await step(p.mediator, id, { type: 'agree', agreementHash, coSignature });
  await step(p.mediator, id, { type: 'applyConfirmation', court: p.court.institution });
  await step(p.court, id, { type: 'decide', decision: 'confirmed', rulingHash: doc(`${id} ruling`) });
  await step(p.bank, id, { type: 'milestone', seq: 1, kind: 'fullyPerformed' });
  await step(p.mediator, id, { type: 'close' });

  const failedId = `${id}-B`;
  out(`case demo: ${failedId}, a complaint against ${p.otherBank.institution} that mediation cannot settle`);
  const failed = newStoredCase(sealing.get(p.mediator.institution)!.store, failedId);
  await step(p.mediator, failedId, {
    type: 'open',
    respondent: p.otherBank.institution,
    claimant: sealedClaimant(failed, DEMO_CLAIMANT_REF),
  });
  await step(p.mediator, failedId, { type: 'assign', mediator: p.mediator.institution });
  const height = await step(p.mediator, failedId, { type: 'fail', reason: 'respondentRefused' });

  // Case reads are signed and checked by party (ADR 009): another bank is refused, the respondent is served
  // by any node, here another institution's.
  const refused = await p.otherBank.client.request<{ code?: string }>('GET', `/v1/cases/${ref}/receipt`);
  out(
    `case demo: ${p.otherBank.institution} asks for ${id}: HTTP ${refused.status} ${refused.body.code ?? ''}`,
  );
  if (refused.status !== 403) return false;
  out(
    `case demo: the receipt of ${id}, read by ${p.bank.institution} from ${p.otherBank.institution}'s node, verified offline with the genesis alone:`,
  );
  const asBank = new ApiClient(p.otherBank.client.base);
  asBank.signer = p.bank.client.signer;
  const receipt = (await asBank.get<unknown>(`/v1/cases/${ref}/receipt`)).body;
  const v = verifyCaseReceipt(receipt, loadGenesisFile(m.genesis));
  for (const c of v.checks) out(`  ${c.status === 'pass' ? 'ok  ' : 'FAIL'} ${c.name.padEnd(9)} ${c.detail}`);
  // The court's own node may be an observer, a moment behind: statistics once it holds the last event.
  await p.court.client.request('GET', `/v1/blocks/${height}?wait=10000`);
  const stats = (await p.court.client.get<{ all: Record<string, unknown> }>('/v1/stats')).body.all;
  const audit = (
    await asBank.get<{ entries: { institution: string; action: string }[] }>(`/v1/audit?case=${ref}`)
  ).body.entries;
  const reads = audit.map((e) => `${e.institution} ${e.action}`).join(', ');
  out(`case demo: ${p.otherBank.institution}'s node audit log for ${id}: ${reads}`);
  out(`case demo: statistics from the chain: ${JSON.stringify(stats)}`);
  return v.ok;
}
