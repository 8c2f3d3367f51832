/**
 * Alliance governance on processes (ADR 006), under the load generator: a fifth institution joins a running
 * four-validator alliance (registered, then its validator added: it syncs from genesis and votes, n = 5, f = 1,
 * quorum 4), a validator is removed, and a key is rotated (the validator restarts with its new key file). A
 * proposal without a quorum never takes effect, and approvals from a non-validator or with a bad signature are
 * refused. Evidence signed by bank-e's governance-registered client key, in the last epoch, gets a receipt that
 * verifies offline from the genesis alone. The scenario ends with the invariant check, which replays the
 * governance txs to know the set in force at every height (harness/checker.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { encodeEvidence } from '../../../src/core/evidence.ts';
import { generateKeyPair, readKeyFile, writeKeyFile } from '../../../src/core/keys.ts';
import { envelope, signTx } from '../../../src/core/tx.ts';
import { HOME_FILES } from '../../../src/node/home.ts';
import { verifyReceipt } from '../../../src/receipt/receipt.ts';
import { gov, govTx, joinFifth, pass, post, validatorKeyOf } from '../harness/governance.ts';
import { runScenario } from '../harness/scenario.ts';

const SCENARIO_TIMEOUT_MS = 12 * 60_000;

describe('alliance governance on processes', () => {
  it(
    'a fifth institution joins under load (n=5, quorum 4), a validator is removed, a key is rotated; forged and sub-quorum proposals never take effect',
    async () => {
      await runScenario({ name: 'governance-4', validators: 4, joining: 1 }, async (s) => {
        const c = s.cluster;
        await s.waitProgress('warm-up', { blocks: 5 });

        // A forged approval: a key that is not a validator's, and a validator's tx with a broken signature.
        const pending = govTx(c, 'bank-a', validatorKeyOf(c, 0), {
          kind: 'propose',
          deadline: Date.now() + 10 * 60_000,
          action: { type: 'revokeClientKey', institution: 'bank-d', keyId: 'client-1' },
        });
        s.governance.add(pending.hashHex);
        expect((await post(c, 0, pending)).status).toBeLessThan(300);
        await c.waitUntil('the sub-quorum proposal committed', async () =>
          (await gov(c, 1)).proposals.some((x) => x.id === pending.hashHex),
        );
        const stranger = govTx(c, 'bank-b', generateKeyPair(), { kind: 'approve', proposalId: pending.hash });
        expect(await post(c, 1, stranger)).toMatchObject({ status: 422, code: 'TX_BAD_SIGNATURE' });
        const good = govTx(c, 'bank-c', validatorKeyOf(c, 2), { kind: 'approve', proposalId: pending.hash });
        const sig = good.tx.signature.slice();
        sig[3]! ^= 1;
        const broken = envelope({ ...good.tx, signature: sig });
        expect(await post(c, 2, broken)).toMatchObject({ status: 422, code: 'TX_BAD_SIGNATURE' });
        const client = govTx(c, 'bank-e', readKeyFile(c.clientKey(4)), {
          kind: 'approve',
          proposalId: pending.hash,
        });
        expect((await post(c, 2, client)).code).toBe('TX_UNKNOWN_INSTITUTION');

        // ---- join: register bank-e and add its validator; it syncs from genesis, then votes ----
        await joinFifth(s);
        const bankE = c.nodes[4]!;

        // ---- removal of bank-d: the others go on with quorum 3 of 4 ----
        await pass(s, { type: 'removeValidator', institution: 'bank-d' }, [0, 1, 2, 4], [0, 1, 2, 4]);
        for (const i of [0, 1, 2, 4]) {
          await c.waitUntil(
            `the removal in force on ${i}`,
            async () => (await gov(c, i)).validatorSet.n === 4,
          );
        }
        await s.waitProgress('progress after the removal', { nodes: [0, 1, 2, 4], blocks: 3 });
        // The others disconnect it: it is no longer on their allowlist.
        for (const i of [0, 1, 2, 4]) {
          await c.waitUntil(`${c.nodes[i]!.institution} disconnected bank-d`, async () => {
            const st = (await c.nodes[i]!.status()) as unknown as {
              peers: { peerId: string; connected: boolean }[];
            };
            return !st.peers.some((p) => p.peerId === c.nodes[3]!.peerId && p.connected);
          });
        }
        await c.retire(3);

        // ---- rotation of bank-b's key: it restarts with the new key file and votes again ----
        const rotated = generateKeyPair();
        const rotation = await pass(
          s,
          { type: 'rotateValidatorKey', institution: 'bank-b', publicKey: rotated.publicKey },
          [1, 2, 4],
          [0, 2, 4],
        );
        const oldKey = validatorKeyOf(c, 1);
        await c.stop(1);
        const keyFile = join(c.nodes[1]!.home, HOME_FILES.validatorKey);
        rmSync(keyFile);
        writeKeyFile(keyFile, rotated);
        await c.startNode(1);
        s.note('rotatedValidatesMs', await s.waitValidates(1, rotation.effectiveHeight));
        // The old key stopped working at the switch.
        const old = govTx(c, 'bank-b', oldKey, { kind: 'approve', proposalId: pending.hash });
        expect(await post(c, 0, old)).toMatchObject({ status: 422, code: 'TX_BAD_SIGNATURE' });

        // Evidence signed by bank-e's client key (registered by governance) after the three set changes: its
        // receipt carries the governance txs and verifies offline with the genesis alone.
        const evidence = envelope(
          signTx(
            {
              chainId: c.genesis.chainId,
              type: 'evidence',
              institution: bankE.institution,
              keyId: 'client-1',
              nonce: Date.now(),
              createdAt: Date.now(),
              ttlMs: 10 * 60_000,
              payload: encodeEvidence({
                hashAlg: 'sha256',
                hash: sha256(utf8.encode('bank-e statement after governance')),
                caseId: 'GOV-RECEIPT',
                evidenceType: 'statement',
              }),
            },
            readKeyFile(c.clientKey(4)).signer,
          ),
        );
        s.evidence.add(evidence.hashHex);
        expect((await post(c, 0, evidence)).status).toBeLessThan(300);
        let receipts: unknown[] = [];
        await c.waitUntil('the receipt of bank-e’s evidence', async () => {
          const r = await fetch(`${c.nodes[2]!.apiUrl}/v1/receipts/${evidence.hashHex}`);
          if (r.status !== 200) return false;
          receipts = ((await r.json()) as { receipts: unknown[] }).receipts;
          return true;
        });
        const { epoch } = (await gov(c, 0)).validatorSet;
        const v = await verifyReceipt(receipts[0], { genesis: c.genesis });
        expect(v.ok, JSON.stringify(v.checks)).toBe(true);
        expect(v.checks.find((x) => x.name === 'governance')!.detail).toMatch(
          new RegExp(`governance txs in \\d+ blocks replayed; validator set of epoch ${epoch}$`),
        );
        expect(v.checks.find((x) => x.name === 'signature')!.detail).toBe('signed by bank-e/client-1');

        // The sub-quorum proposal never took effect: bank-d's client key is still registered.
        const last = await gov(c, 0);
        expect(last.proposals.find((x) => x.id === pending.hashHex)?.status).toBe('pending');
        const bankD = last.institutions.find((x) => x.id === 'bank-d')!;
        expect(bankD.clientKeys['client-1']).toBe(toHex(readKeyFile(c.clientKey(3)).publicKey));
      });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
