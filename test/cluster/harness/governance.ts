/**
 * Governance helpers for cluster scenarios (ADR 006): governance txs signed with a validator's key file, posted to
 * a node's API, and a propose-then-approve round that waits until the proposal passed everywhere it should.
 */
import { expect } from 'vitest';
import type { GovernanceAction } from '../../../src/core/governance.ts';
import { type KeyPair, readKeyFile } from '../../../src/core/keys.ts';
import { gov, govTx, post, validatorKeyOf } from './gov-tx.ts';
import type { Scenario } from './scenario.ts';

export { type GovJson, gov, govTx, post, validatorKeyOf } from './gov-tx.ts';

/**
 * Proposes `action` from validator `by[0]` and approves it from the others, each through its own node, once
 * the proposal is committed there; waits until every node in `watch` sees it passed.
 */
export async function pass(
  s: Scenario,
  action: GovernanceAction,
  by: number[],
  watch: number[],
  keys: Record<number, KeyPair> = {},
): Promise<{ id: string; effectiveHeight: number }> {
  const c = s.cluster;
  const keyOf = (i: number) => keys[i] ?? validatorKeyOf(c, i);
  const p = govTx(c, c.nodes[by[0]!]!.institution, keyOf(by[0]!), {
    kind: 'propose',
    deadline: Date.now() + 10 * 60_000,
    action,
  });
  s.governance.add(p.hashHex);
  expect((await post(c, by[0]!, p)).status).toBeLessThan(300);
  for (const i of by.slice(1)) {
    await c.waitUntil(`proposal ${action.type} committed on ${i}`, async () =>
      (await gov(c, i)).proposals.some((x) => x.id === p.hashHex),
    );
    const a = govTx(c, c.nodes[i]!.institution, keyOf(i), { kind: 'approve', proposalId: p.hash });
    s.governance.add(a.hashHex);
    const r = await post(c, i, a);
    expect(r.status, JSON.stringify(r)).toBeLessThan(300);
  }
  let effectiveHeight = 0;
  for (const i of watch) {
    await c.waitUntil(`proposal ${action.type} passed on ${i}`, async () => {
      const found = (await gov(c, i)).proposals.find((x) => x.id === p.hashHex);
      if (found?.status !== 'passed') return false;
      effectiveHeight = found.effectiveHeight ?? 0;
      return true;
    });
  }
  return { id: p.hashHex, effectiveHeight };
}

/**
 * Validator 4's institution joins a running alliance of validators 0-3: registered with its client key, then its
 * validator added; its node starts, syncs from the genesis and signs blocks, and every node reports the set of
 * five (f = 1, quorum 4). Returns the height from which the five-validator set is in force.
 */
export async function joinFifth(s: Scenario): Promise<number> {
  const c = s.cluster;
  const joiner = c.nodes[4]!;
  await pass(
    s,
    {
      type: 'registerInstitution',
      id: joiner.institution,
      name: 'Bank E',
      clientKeys: [{ keyId: 'client-1', publicKey: readKeyFile(c.clientKey(4)).publicKey }],
    },
    [0, 1, 2],
    [0, 1, 2, 3],
  );
  const added = await pass(
    s,
    { type: 'addValidator', institution: joiner.institution, publicKey: validatorKeyOf(c, 4).publicKey },
    [1, 2, 3],
    [0, 1, 2, 3],
  );
  await c.startNode(4);
  s.note('joinCatchUpMs', await s.waitCaughtUp(4));
  s.note('joinValidatesMs', await s.waitValidates(4, added.effectiveHeight));
  for (const i of [0, 1, 2, 3, 4]) {
    expect((await gov(c, i)).validatorSet).toMatchObject({ n: 5, f: 1, quorum: 4 });
  }
  return added.effectiveHeight;
}
