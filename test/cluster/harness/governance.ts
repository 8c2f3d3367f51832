/**
 * Governance helpers for cluster scenarios (ADR 006): governance txs signed with a validator's key file, posted to
 * a node's API, and a propose-then-approve round that waits until the proposal passed everywhere it should.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  encodeGovernance,
  type GovernanceAction,
  type GovernanceRecord,
} from '../../../src/core/governance.ts';
import { type KeyPair, readKeyFile } from '../../../src/core/keys.ts';
import { envelope, signTx, type TxEnvelope, VALIDATOR_KEY_ID } from '../../../src/core/tx.ts';
import { HOME_FILES } from '../../../src/node/home.ts';
import type { Cluster } from './cluster.ts';
import { getJson, type Scenario } from './scenario.ts';

export interface GovJson {
  validatorSet: {
    epoch: number;
    n: number;
    f: number;
    quorum: number;
    validators: { institution: string }[];
  };
  proposals: { id: string; status: string; effectiveHeight: number | null }[];
  institutions: { id: string; clientKeys: Record<string, string> }[];
}

export const validatorKeyOf = (c: Cluster, i: number) =>
  readKeyFile(join(c.nodes[i]!.home, HOME_FILES.validatorKey));

export function govTx(c: Cluster, institution: string, key: KeyPair, g: GovernanceRecord): TxEnvelope {
  return envelope(
    signTx(
      {
        chainId: c.genesis.chainId,
        type: 'governance',
        institution,
        keyId: VALIDATOR_KEY_ID,
        nonce: 0,
        createdAt: Date.now(),
        ttlMs: 10 * 60_000,
        payload: encodeGovernance(g),
      },
      key.signer,
    ),
  );
}

export async function post(
  c: Cluster,
  i: number,
  tx: TxEnvelope,
): Promise<{ status: number; code?: string }> {
  const r = await fetch(`${c.nodes[i]!.apiUrl}/v1/txs`, {
    method: 'POST',
    body: tx.bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
  const body = (await r.json()) as { code?: string };
  return { status: r.status, ...(body.code ? { code: body.code } : {}) };
}

export const gov = (c: Cluster, i: number) => getJson<GovJson>(`${c.nodes[i]!.apiUrl}/v1/governance`);

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
