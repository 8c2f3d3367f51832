/**
 * Dispute cases through every role on real processes: four validators (bank-a, bank-b banks, bank-c the
 * mediation organisation) and a court (bank-e) that runs an observer node. The court's node follows the chain
 * by state sync, serves the case and its receipt, and takes the court's decision through its own API, relaying
 * it to the validators. The receipt it serves verifies offline from the genesis.
 */
import { describe, expect, it } from 'vitest';
import { recordCaseEvent } from '../../../src/cli/case.ts';
import { ApiClient } from '../../../src/cli/client.ts';
import { resolveIdentity } from '../../../src/cli/evidence.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { agreementSigningBody, type CaseEvent } from '../../../src/core/case.ts';
import { Domain, sha256 } from '../../../src/core/crypto.ts';
import { verifyCaseReceipt } from '../../../src/receipt/case-verify.ts';
import { Cluster } from '../harness/cluster.ts';

const doc = (label: string) => sha256(utf8.encode(label));

describe('dispute cases on a cluster with a court observer', () => {
  it('runs a case through all roles; the observer syncs it, serves it and its verifiable receipt', async () => {
    const c = await Cluster.create({ name: 'cases', validators: 4, observers: 1, roles: { 2: 'mediator' } });
    try {
      await c.start();
      await c.startNode(4);
      const observer = c.nodes[4]!;
      const via = (i: number) => new ApiClient(c.nodes[i]!.apiUrl);
      const who = async (inst: number, node: number) => ({
        ...(await resolveIdentity(via(node), c.clientKey(inst))),
        client: via(node),
      });
      const bank = await who(0, 0);
      const mediator = await who(2, 2);
      // The court uses its own observer node for everything, its decision included.
      const court = await who(4, 4);
      expect(court.institution).toBe(observer.institution);
      const observerSynced = async (what: string) => {
        const head = (await c.nodes[0]!.status()).height as number;
        await c.waitUntil(`the observer to sync ${what}`, async () => {
          const s = await observer.status().catch(() => undefined);
          return s !== undefined && (s.height as number) >= head;
        });
      };
      const id = 'CLUSTER-CASE-1';
      const step = (p: typeof bank, event: CaseEvent) =>
        recordCaseEvent(p.client, p, { caseId: id, event }, true);
      await step(bank, { type: 'open', respondent: bank.institution, claimant: doc('claimant') });
      await step(bank, { type: 'assign', mediator: mediator.institution });
      await step(mediator, { type: 'session', seq: 1 });
      const agreementHash = doc('agreement');
      const signature = bank.key.signer.sign(
        Domain.caseAgreement,
        agreementSigningBody(bank.chainId, id, agreementHash),
      );
      const coSignature = { institution: bank.institution, keyId: bank.keyId, signature };
      await step(mediator, { type: 'agree', agreementHash, coSignature });
      await step(mediator, { type: 'applyConfirmation', court: court.institution });

      // The observer checks an event against its own copy of the case: it must have synced the application.
      await observerSynced('the application');
      // The observer relays the decision to the validators and answers "committed" once its own synced ledger
      // holds it.
      const decided = await step(court, { type: 'decide', decision: 'confirmed', rulingHash: doc('ruling') });
      expect(decided.status).toBe('committed');
      await step(mediator, { type: 'close' });
      await observerSynced('the closure');

      const served = (await court.client.get<{ case: { status: string } }>(`/v1/cases/${id}`)).body;
      expect(served.case.status).toBe('closed');
      const receipt = (await court.client.get<unknown>(`/v1/cases/${id}/receipt`)).body;
      const v = verifyCaseReceipt(receipt, c.genesis);
      expect(v.ok, JSON.stringify(v.checks)).toBe(true);
      const stats = (await court.client.get<{ all: unknown }>('/v1/stats')).body.all;
      expect(stats).toEqual((await via(0).get<{ all: unknown }>('/v1/stats')).body.all);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await c.diagnostics()}`);
    } finally {
      await c.destroy();
    }
  }, 300_000);
});
