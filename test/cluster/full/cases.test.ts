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
      // resolveIdentity makes the client sign its requests as the institution (case reads need it).
      const who = async (inst: number, node: number) => {
        const client = via(node);
        return { ...(await resolveIdentity(client, c.clientKey(inst))), client };
      };
      const bank = await who(0, 0);
      const mediator = await who(2, 2);
      // The court uses its own observer node for everything, its decision included.
      const court = await who(4, 4);
      expect(court.institution).toBe(observer.institution);
      const id = 'CLUSTER-CASE-1';
      let height = 0;
      const step = async (p: typeof bank, event: CaseEvent) => {
        // Each party reads the case from its own node: let it catch up with the last event first.
        if (height > 0) await p.client.request('GET', `/v1/blocks/${height}?wait=30000`);
        const r = await recordCaseEvent(p.client, p, { caseId: id, event }, true);
        height = Math.max(height, r.height ?? 0);
        return r;
      };
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

      // The observer relays the decision to the validators and answers "committed" once its own synced ledger
      // holds it.
      const decided = await step(court, { type: 'decide', decision: 'confirmed', rulingHash: doc('ruling') });
      expect(decided.status).toBe('committed');
      const closed = await step(mediator, { type: 'close' });

      // The closure's own height (another validator may not have stored it yet when asked for its head).
      await c.waitUntil('the observer to sync the closure', async () => {
        const s = await observer.status().catch(() => undefined);
        return s !== undefined && (s.height as number) >= (closed.height ?? Number.POSITIVE_INFINITY);
      });
      const served = (await court.client.get<{ case: { status: string } }>(`/v1/cases/${id}`)).body;
      expect(served.case.status).toBe('closed');
      const receipt = (await court.client.get<unknown>(`/v1/cases/${id}/receipt`)).body;
      const v = verifyCaseReceipt(receipt, c.genesis);
      expect(v.ok, JSON.stringify(v.checks)).toBe(true);
      const stats = (await court.client.get<{ all: unknown }>('/v1/stats')).body.all;
      expect(stats).toEqual((await bank.client.get<{ all: unknown }>('/v1/stats')).body.all);
      // Case data is for the parties: unsigned, the observer refuses it.
      const unsigned = await new ApiClient(observer.apiUrl).request<{ code: string }>(
        'GET',
        `/v1/cases/${id}`,
      );
      expect([unsigned.status, unsigned.body.code]).toEqual([401, 'AUTH_REQUIRED']);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await c.diagnostics()}`);
    } finally {
      await c.destroy();
    }
  }, 300_000);
});
